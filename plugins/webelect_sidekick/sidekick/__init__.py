"""The Campaign Sidekick client: hook, part builder, upload trigger and wait operator.

Import from the submodules (``webelect_sidekick.sidekick.hook`` etc.): this file stays empty
so that the triggerer importing the trigger does not pull in operator code, and the other way.
"""
