"""What a scheduled prompt carries on Discord, and what the bot needs to post one.

Shared by the /schedule commands (`bot.cogs.schedule`), which check a channel before
saving and preview a post, and the prompt poster (`bot.cogs.prompt_poster`), which posts.
"""

from __future__ import annotations

import discord

from bot.ui.checkin import checkin_button


def checkin_view(*, disabled: bool = False) -> discord.ui.View:
    """The "Check in" button every scheduled post carries; switched off for a preview."""
    view = discord.ui.View(timeout=None)
    view.add_item(checkin_button(disabled=disabled))
    # The button's dynamic item answers presses on any message that carries it. A view
    # stored for this message would take precedence over it, so this one is never stored.
    view.stop()
    return view


def missing_post_permissions(channel: discord.abc.GuildChannel) -> list[str]:
    """The permissions the bot lacks to post a prompt in `channel`, as Discord names them."""
    permissions = channel.permissions_for(channel.guild.me)
    # discord.py clears every permission when View Channel is missing, and Embed Links
    # when Send Messages is: name only the first cause, the one to fix.
    if not permissions.view_channel:
        return ["View Channel"]
    if not permissions.send_messages:
        return ["Send Messages"]
    return [] if permissions.embed_links else ["Embed Links"]


def missing_permission_reason(channel_name: str, missing: list[str]) -> str:
    names = " and ".join(missing)
    noun = "permission" if len(missing) == 1 else "permissions"
    return f"Peerlight is missing the {names} {noun} in #{channel_name}."


POST_PERMISSIONS = "View Channel, Send Messages and Embed Links"
