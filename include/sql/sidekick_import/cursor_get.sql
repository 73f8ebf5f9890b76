select cursor, updated_at, updated_by_run, reset_at, reset_by
from webelect.sidekick_import_cursors
where campaign_id = %(campaign_id)s
