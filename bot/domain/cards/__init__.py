"""Cards: what the bot shows, independent of Discord; one module per feature, and the
card model and Discord's limits in `base`."""
