"""News that travels upward: a lower app announces, the apps that care subscribe in their AppConfig.ready().

Senders never know who listens, so a lower layer never imports a higher one.
"""

from django.dispatch import Signal

# A certificate's printed or verified facts may have changed without the certificate row changing: a holder's
# name or photo, an occupation's name, a level's label, a catalogue note. Keyword arguments:
#   person_ids: list[int] | None — the holders concerned; None means any certificate may be affected.
certificate_facts_changed = Signal()
