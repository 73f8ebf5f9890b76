-- Tag names of the campaign's unapplied tag changes that will be applied (usable change,
-- voter of this campaign), each resolved by the rule: a tag of the campaign whose
-- sidekick_name equals it (trimmed, exact case), else whose name equals it (trimmed, any
-- case); the lowest id wins ties. tag_id stays null when no tag matches.
insert into pg_temp.sidekick_tag_wanted (name, first_seq, tag_id)
with wanted as (
    select i.value as name, min(i.seq) as first_seq
    from webelect.sidekick_change_inbox i
    left join webelect.voters vw on vw.id = i.voter_webelect_id and vw.campaign_id = i.campaign_id
    left join webelect.voters vs on vs.campaign_id = i.campaign_id and vs.sos_voter_id = i.voter_sos_id
    where i.campaign_id = %(campaign_id)s
      and i.change_type = 'tag'
      and i.problem is null
      and (vw.id is not null or vs.id is not null)
    group by i.value
), by_sidekick_name as (
    select distinct on (webelect.sidekick_trim(t.sidekick_name)) webelect.sidekick_trim(t.sidekick_name) as k, t.id
    from webelect.tags t
    where t.campaign_id = %(campaign_id)s and t.sidekick_name is not null
    order by webelect.sidekick_trim(t.sidekick_name), t.id
), by_name as (
    select distinct on (lower(webelect.sidekick_trim(t.name))) lower(webelect.sidekick_trim(t.name)) as k, t.id
    from webelect.tags t
    where t.campaign_id = %(campaign_id)s
    order by lower(webelect.sidekick_trim(t.name)), t.id
)
select w.name, w.first_seq, coalesce(s.id, n.id)
from wanted w
left join by_sidekick_name s on s.k = w.name
left join by_name n on n.k = lower(w.name)
