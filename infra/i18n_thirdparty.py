"""Strings of third-party packages that reach people, so that they get Vietnamese too.

django-simple-history ships no Vietnamese catalogue, and Django REST framework's leaves most of the
field errors our API and OGC parameters give untranslated. Listing their msgids here puts them in
ours (makemessages extracts gettext_noop), and Django's catalogue merge picks them up.
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

# Django REST framework's field errors that our serializers and query parameters can give (its Vietnamese
# catalogue lacks them); the {placeholders} are filled in by DRF after translation.
REST_FRAMEWORK_STRINGS = [
    gettext_noop("This field may not be null."),
    gettext_noop("A valid integer is required."),
    gettext_noop("Ensure this value is less than or equal to {max_value}."),
    gettext_noop("Ensure this value is greater than or equal to {min_value}."),
    gettext_noop("String value too large."),
    gettext_noop("Not a valid string."),
    gettext_noop("Ensure this field has no more than {max_length} characters."),
    gettext_noop("Ensure this field has at least {min_length} characters."),
    gettext_noop("Expected a date but got a datetime."),
    gettext_noop('"{input}" is not a valid choice.'),
    gettext_noop('Invalid pk "{pk_value}" - object does not exist.'),
    gettext_noop("Incorrect type. Expected pk value, received {data_type}."),
    gettext_noop("This value does not match the required pattern."),
    gettext_noop("Must be a valid boolean."),
    gettext_noop("Invalid data. Expected a dictionary, but got {datatype}."),
    # authentication and requests (an API client meets these first)
    gettext_noop("Authentication credentials were not provided."),
    gettext_noop("Incorrect authentication credentials."),
    gettext_noop("Invalid token."),
    gettext_noop("Invalid token header. No credentials provided."),
    gettext_noop("Invalid token header. Token string should not contain spaces."),
    gettext_noop("Invalid token header. Token string should not contain invalid characters."),
    gettext_noop('Unsupported media type "{media_type}" in request.'),
    gettext_noop("Malformed request."),
]

# Django's own form errors that its Vietnamese catalogue lacks.
DJANGO_STRINGS = [
    gettext_noop("Null characters are not allowed."),
]

# Django admin's own screen text that its Vietnamese catalogue lacks (skip links, theme and navigation toggles,
# labels of its lists and forms).
DJANGO_ADMIN_STRINGS = [
    gettext_noop('Add link'),
    gettext_noop('Added:'),
    gettext_noop('After you’ve created a user, you’ll be able to edit more user options.'),
    gettext_noop('Breadcrumbs'),
    gettext_noop('Change or view list link'),
    gettext_noop('Changed:'),
    gettext_noop('Deleted:'),
    gettext_noop('Disable password-based authentication'),
    gettext_noop('Enable password-based authentication'),
    gettext_noop('Error:'),
    gettext_noop('Filter navigation items'),
    gettext_noop('Forgotten your login credentials?'),
    gettext_noop('Hide counts'),
    gettext_noop('In case you’ve forgotten, you are:'),
    gettext_noop('Model name'),
    gettext_noop('Set password'),
    gettext_noop('Show counts'),
    gettext_noop('Sidebar'),
    gettext_noop('Skip to main content'),
    gettext_noop('Toggle navigation'),
    gettext_noop('Toggle theme (current theme: auto)'),
    gettext_noop('Toggle theme (current theme: dark)'),
    gettext_noop('Toggle theme (current theme: light)'),
]
