select (select count(distinct tag_id) from webelect.sidekick_import_tag_map
         where campaign_id = %(campaign_id)s and run_id = %(run_id)s and created) as tags_created,
       (select count(*) from webelect.sidekick_import_user_map
         where campaign_id = %(campaign_id)s and run_id = %(run_id)s and created) as users_created,
       (select count(*) from webelect.sidekick_change_inbox
         where campaign_id = %(campaign_id)s) as still_unapplied
