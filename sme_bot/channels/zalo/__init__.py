"""The Zalo channel: a client for Zalo's Bot Platform API (zalo.client holds every assumption about it)."""
