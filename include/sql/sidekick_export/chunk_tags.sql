-- The chunk's tag names, as one CSV text (voter_id,"name" per line): the Sidekick spelling
-- of each of the voter's tags (sidekick_name when set and not blank, trimmed; else the
-- tag's name) and the name of each group the voter is in; only this campaign's tags and
-- groups. records.py adds the export's "Add To Group" name for targeted voters, removes
-- duplicates and sorts by code point. One value instead of a row per tag: reading
-- thousands of COPY rows costs more in Python than PostgreSQL spends on the text.
select convert_to(coalesce(string_agg(x.voter_id || ',"' || replace(x.name, '"', '""') || '"', E'\n'), ''),
                  'UTF8')
from (
    select vt.voter_id, coalesce(nullif(btrim(t.sidekick_name), ''), t.name) as name
    from unnest(%(ids)s::bigint[]) as s (voter_id)
    join webelect.voter_tags vt on vt.voter_id = s.voter_id
    join webelect.tags t on t.id = vt.tag_id and t.campaign_id = %(campaign_id)s
    where vt.voter_id between %(lo)s and %(hi)s
    union all
    select gm.voter_id, g.name
    from unnest(%(ids)s::bigint[]) as s (voter_id)
    join webelect.group_members gm on gm.voter_id = s.voter_id
    join webelect.groups g on g.id = gm.group_id and g.campaign_id = %(campaign_id)s
    where gm.voter_id between %(lo)s and %(hi)s
) as x (voter_id, name)
