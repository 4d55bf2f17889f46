"""What a catalogue change (occupations.changes) announces to the apps above it.

Both are sent inside the operator's transaction; receivers write their part in it, so it stands or falls whole.
"""

from django.dispatch import Signal

# Preview: each app adds what the change touches of its own to `impact` (an occupations.changes.Impact).
# Keyword arguments: qualification, occupations (list), kind, ending (bool), effective_on, impact.
catalogue_change_impact = Signal()

# Confirmation, after the qualification's dated fields are written. Keyword arguments: change, impact, title (the
# notification title everyone concerned receives). A receiver returns a dict of counts for the audit entry.
catalogue_change_confirmed = Signal()
