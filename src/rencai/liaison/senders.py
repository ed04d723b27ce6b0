"""How a campaign's messages leave rencai: one ``Sender`` per channel.

- E-mail goes through Django's e-mail backends (``settings.EMAIL_BACKEND``: a file per message
  under var/mail by default, the console, or SMTP in production — see docs/campaigns.md).
- SMS and WeChat go through the class named in ``settings.CAMPAIGN_SMS_SENDER`` /
  ``CAMPAIGN_WECHAT_SENDER``. The default, ``OutboxSender``, keeps each message in the outbox
  (发件箱) table, viewable by staff, and needs no outside service. A gateway is a subclass of
  ``Sender`` whose ``send`` raises ``SendError`` for a failure worth retrying (a timeout, the
  gateway busy) and ``PermanentSendError`` for one that is not (a number the gateway refuses).

A sender's error messages are shown to staff and kept with the recipient: they must not quote
the address or the message.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import mail
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from rencai.liaison.models_campaigns import CampaignChannel, OutboxMessage


class SendError(Exception):
    """A message could not be sent this time; the campaign tries again later."""


class PermanentSendError(SendError):
    """A message can never be sent (the address is refused): no retry."""


@dataclass
class OutgoingMessage:
    """One rendered message to one talent."""

    channel: str
    address: str
    subject: str
    body: str
    talent: Any = None
    campaign: Any = None
    unsubscribe_url: str = ""


class Sender:
    """Sends messages of one channel; ``close`` is called when a campaign's send ends."""

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, message: OutgoingMessage) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release what ``send`` opened (an SMTP connection)."""


class EmailSender(Sender):
    """E-mail through ``settings.EMAIL_BACKEND``, one connection for the whole campaign."""

    def __init__(self, channel: str = CampaignChannel.EMAIL):
        super().__init__(channel)
        self.connection = None

    def send(self, message: OutgoingMessage) -> None:
        if self.connection is None:
            self.connection = mail.get_connection(fail_silently=False)
        headers = {}
        if message.unsubscribe_url:
            headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email = mail.EmailMessage(
            subject=message.subject, body=message.body, from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address], headers=headers, connection=self.connection,
        )
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentSendError(_("邮件服务器拒收该地址")) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()  # a broken connection is opened afresh for the next message
            raise SendError(_("邮件服务器暂时无法发送（%(kind)s）") % {"kind": type(exc).__name__}) from exc

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except (smtplib.SMTPException, OSError):
                pass
            self.connection = None


class OutboxSender(Sender):
    """Keeps SMS and WeChat messages in the outbox table (the default: no outside service)."""

    def send(self, message: OutgoingMessage) -> None:
        talent = message.talent
        OutboxMessage.objects.create(
            channel=self.channel, region_id=talent.region_id if talent is not None else message.campaign.region_id,
            campaign=message.campaign, talent=talent, address=message.address, body=message.body,
        )


SENDER_SETTINGS = {CampaignChannel.SMS: "CAMPAIGN_SMS_SENDER", CampaignChannel.WECHAT: "CAMPAIGN_WECHAT_SENDER"}


def sender_for(channel: str) -> Sender:
    """The sender of ``channel`` as configured."""
    if channel == CampaignChannel.EMAIL:
        return EmailSender()
    return import_string(getattr(settings, SENDER_SETTINGS[channel]))(channel)
