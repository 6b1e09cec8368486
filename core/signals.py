"""What features announce to each other, as blinker signals sent once the change is committed.

Writers announce (`announce(listings_changed, territory)`), readers subscribe in their own
package (`listings_changed.connect(receiver)`), so that no writer imports its readers. A change
announced inside a transaction is sent after that transaction commits, once per distinct
announcement, and never when it rolls back. Receivers get the sender and keyword data only:
ids and `TenantRef`s, never ORM objects of a finished transaction.
"""

from __future__ import annotations

from blinker import Namespace

from core.commit import after_commit

_signals = Namespace()

#: A territory's listings changed (any source, any status change). Sender: its TenantRef.
listings_changed = _signals.signal("listings-changed")
#: Listings became published. Sender: the TenantRef; `ids`: the listings' ids (tuple).
listing_published = _signals.signal("listing-published")
#: A territory's 1 km cells were recomputed. Sender: its TenantRef.
cells_changed = _signals.signal("cells-changed")
#: The national cell profiles were rebuilt or reloaded. Sender: None.
profiles_changed = _signals.signal("profiles-changed")
#: A territory's land changed: created, or an umbrella's members changed. Sender: its TenantRef;
#: `official_code`: its INSEE code or SIREN.
perimeter_changed = _signals.signal("perimeter-changed")
#: The set of active territories changed: one created, deleted or restored, its status changed,
#: an umbrella's members changed (a wider territory's member sites may differ). Sender: the
#: TenantRef of the territory concerned.
territories_changed = _signals.signal("territories-changed")
#: What some territories may use changed: a contract, an option, an umbrella's member or a manual
#: grant. Sender: None (every territory's entitlements are read again).
entitlements_changed = _signals.signal("entitlements-changed")
#: A person confirmed their e-mail address (the first time). Sender: the account id;
#: `territory`: the TenantRef of the site they registered on (None: the console host);
#: `share`: they ticked "share my details" there when registering; `locale`: the language of it.
account_verified = _signals.signal("account-verified")
#: An account was created (its address not confirmed yet). Sender: the account id;
#: `territory`: the TenantRef of the site it was created on (None: the portal).
account_registered = _signals.signal("account-registered")
#: A person became a territory's contact, or its prospect, for the first time. Sender: the
#: TenantRef; `stage`: "contact" or "prospect"; `origin`: "site" or "portal".
lead_gained = _signals.signal("lead-gained")


def announce(signal, sender=None, **data) -> None:
    """Send `signal` once the current transaction commits; the same announcement twice in one
    transaction is sent once."""
    key = (signal.name, sender, tuple(sorted(data.items())))
    try:
        hash(key)
    except TypeError:
        key = None
    after_commit(lambda: signal.send(sender, **data), key)
