-- The Sidekick users of the campaign's unapplied changes that will be applied (usable
-- change, voter of this campaign), one per email in any case; names from the earliest change.
insert into pg_temp.sidekick_user_wanted (email_key, email, first_name, last_name)
select distinct on (lower(i.user_email))
       lower(i.user_email),
       i.user_email,
       nullif(webelect.sidekick_trim(i.payload -> 'user' ->> 'first_name'), ''),
       nullif(webelect.sidekick_trim(i.payload -> 'user' ->> 'last_name'), '')
from webelect.sidekick_change_inbox i
left join webelect.voters vw on vw.id = i.voter_webelect_id and vw.campaign_id = i.campaign_id
left join webelect.voters vs on vs.campaign_id = i.campaign_id and vs.sos_voter_id = i.voter_sos_id
where i.campaign_id = %(campaign_id)s
  and i.applied_at is null
  and i.problem is null
  and (vw.id is not null or vs.id is not null)
order by lower(i.user_email), i.seq nulls last, i.change_id
