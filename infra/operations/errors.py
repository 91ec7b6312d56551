"""The one error of backups and restores."""


class BackupRefused(Exception):
    """A backup or restore that was refused or stopped; the message says why and what to do."""
