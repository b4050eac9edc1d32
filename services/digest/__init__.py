"""Weekly match digests.

- `subscriptions`: who subscribes (staff themselves; partners for their organisation's offers)
  and one-click unsubscribing.
- `selection`: which matches appeared or improved in a window, and each subscriber's share.
- `delivery`: building, reserving and sending each period's digests exactly once.
- `messages`: the email itself (items, links, headers); `templates`: its words and layout.
- `preview`: what a subscriber gets this week, and every match of a digest already sent.
- `links`: the web addresses the emails point to (a contract with the web routes).
"""
