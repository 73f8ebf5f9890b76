-- Every unapplied change of the campaign, with its voter (webelect_voter_id when it is a
-- voter of this campaign, else sos_voter_id within the campaign), its user and tag from
-- this run's maps, and the reason it cannot be applied (null when it can).
insert into pg_temp.sidekick_merge_stage
    (change_id, change_type, seq, occurred_at, value, phone_type, voter_id, user_id, tag_id, reason)
select i.change_id, i.change_type, i.seq, i.occurred_at, i.value, i.phone_type,
       coalesce(vw.id, vs.id), um.user_id, tm.tag_id,
       case
           when i.problem is not null then i.problem
           when coalesce(vw.id, vs.id) is null then
               case when exists (select 1 from webelect.voters o where o.id = i.voter_webelect_id)
                    then 'voter_not_in_campaign' else 'unknown_voter' end
           when um.user_id is null then 'unresolved_user'
           when i.change_type = 'tag' and tm.tag_id is null then 'unmapped_tag'
       end
from webelect.sidekick_change_inbox i
left join webelect.voters vw on vw.id = i.voter_webelect_id and vw.campaign_id = i.campaign_id
left join webelect.voters vs on vs.campaign_id = i.campaign_id and vs.sos_voter_id = i.voter_sos_id
left join webelect.sidekick_import_user_map um
       on um.campaign_id = i.campaign_id and um.run_id = %(run_id)s and um.email_key = lower(i.user_email)
left join webelect.sidekick_import_tag_map tm
       on tm.campaign_id = i.campaign_id and tm.run_id = %(run_id)s and tm.sidekick_tag = i.value
      and i.change_type = 'tag'
where i.campaign_id = %(campaign_id)s
