-- One chunk of sent voters with their household's address (only a household of the same
-- campaign: nothing from another campaign, ever). Values are raw; records.py writes the JSON.
-- %(ids)s: the chunk's voter ids (ascending, as an array literal); %(lo)s..%(hi)s: their range.
select v.id, v.sos_voter_id, v.rnc_reg_id, v.household_id, v.first_name, v.middle_name, v.last_name,
       v.suffix, v.birth_date, v.gender, v.party, v.registration_date, v.status, v.precinct,
       h.id is not null as has_address, h.address_line1, h.unit, h.city, h.state, h.zip5
from unnest(%(ids)s::bigint[]) as s (voter_id)
join webelect.voters v on v.id = s.voter_id and v.campaign_id = %(campaign_id)s
left join webelect.households h on h.id = v.household_id and h.campaign_id = %(campaign_id)s
where v.id between %(lo)s and %(hi)s
order by v.id
