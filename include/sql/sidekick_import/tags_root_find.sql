-- The root tag 'Sidekick' of the campaign (any case, trimmed); the lowest id wins.
select id from webelect.tags
where campaign_id = %(campaign_id)s and parent_id is null
  and lower(webelect.sidekick_trim(name)) = 'sidekick'
order by id
limit 1
