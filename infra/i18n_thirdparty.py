"""Strings that django-simple-history shows in the admin, so that they get Vietnamese too.

The package ships no Vietnamese catalogue; listing its msgids here puts them in ours
(makemessages extracts gettext_noop), and Django's catalogue merge picks them up.
"""
from django.utils.translation import gettext_noop

SIMPLE_HISTORY_STRINGS = [
    gettext_noop("View history: %s"),
    gettext_noop("Change history: %s"),
    gettext_noop('The %(name)s "%(obj)s" was changed successfully.'),
    gettext_noop("You may edit it again below"),
    gettext_noop("View %s"),
    gettext_noop("Created"),
    gettext_noop("Changed"),
    gettext_noop("Deleted"),
    gettext_noop("This object doesn't have a change history."),
    gettext_noop("History"),
    gettext_noop("View %(verbose_name)s"),
    gettext_noop("Object"),
    gettext_noop("Date/time"),
    gettext_noop("Comment"),
    gettext_noop("Changed by"),
    gettext_noop("Change reason"),
    gettext_noop("Changes"),
    gettext_noop("None"),
    gettext_noop("Change History"),
    gettext_noop("Close"),
    gettext_noop("version"),
    gettext_noop("stage"),
]
