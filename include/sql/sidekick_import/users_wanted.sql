-- The Sidekick users of the campaign's unapplied changes that will be applied (usable
-- change, voter of this campaign), one per email in any case; the email's spelling and the
-- names come from the earliest change (grouped first: a night has few distinct users).
insert into pg_temp.sidekick_user_wanted (email_key, email, first_name, last_name)
select distinct on (email_key) email_key, email, first_name, last_name
from (
    select lower(i.user_email) as email_key,
           i.user_email as email,
           nullif(webelect.sidekick_trim(i.payload -> 'user' ->> 'first_name'), '') as first_name,
           nullif(webelect.sidekick_trim(i.payload -> 'user' ->> 'last_name'), '') as last_name,
           min(i.seq) as first_seq,
           min(i.change_id) as first_change
    from webelect.sidekick_change_inbox i
    left join webelect.voters vw on vw.id = i.voter_webelect_id and vw.campaign_id = i.campaign_id
    left join webelect.voters vs on vs.campaign_id = i.campaign_id and vs.sos_voter_id = i.voter_sos_id
    where i.campaign_id = %(campaign_id)s
      and i.problem is null
      and (vw.id is not null or vs.id is not null)
    group by 1, 2, 3, 4
) spellings
order by email_key, first_seq nulls last, first_change
