"""Act and notify, once per event: the last step every flow shares.

Duplicate EventBridge deliveries (at-least-once) must cause one action and one message, so the
actions and the notification run together through ``once`` (idempotency on ecsguard's state
table, keyed on CloudTrail's eventID). A duplicate gets the first delivery's outcome back.

Who is paged: a message is sent when a finding is at or above ``NotifyMinSeverity`` or when
ecsguard changed something (or failed to); findings below it (hardening advice) never send one on
their own, but are listed in every message that is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict

from ..aws import actions
from ..aws.clients import Clients
from ..aws.state import Once
from ..model import ActionResult, Report
from ..policy import Settings
from ..render import sns

logger = logging.getLogger(__name__)

__all__ = ["Once", "act_and_notify_once"]


def act_and_notify_once(
    report: Report,
    take_actions: Callable[[], list[ActionResult]],
    *,
    settings: Settings,
    clients: Clients,
    once: Once | None,
) -> None:
    """Take the actions and publish the notification, once per CloudTrail eventID when ``once`` is set.

    A duplicate delivery gets the first delivery's outcome back (actions and message id) without
    acting or publishing again (``report.duplicate``). An attempt that failed halfway (actions done,
    message not sent) left its actions in the state table: the retry does not repeat them, and its
    message still says what was done. Fills ``report.actions`` and ``report.message_id``.
    """
    paging = any(settings.pages(f.severity) for f in report.findings)
    acting = any(mode in ("remediate", "block") for mode in report.modes.values())
    remember = bool(once and report.event_id and settings.state_table)
    if not paging and not acting and not remember:
        logger.info(
            "nothing to send: every finding is below NotifyMinSeverity", extra={"min": settings.notify_min_severity}
        )
        return

    def work() -> dict:
        from ..aws import state

        earlier = (
            [ActionResult(**a) for a in state.load_progress(clients, settings.state_table, report.event_id)]
            if remember
            else []
        )
        if not paging and not acting and not earlier:
            return {"actions": [], "messageId": None}
        done = {(a.action, a.target) for a in earlier if a.ok and a.changed}
        fresh = [a for a in (take_actions() if acting else []) if (a.action, a.target) not in done]
        report.actions = [*earlier, *fresh]
        if remember and any(a.changed for a in fresh):
            state.save_progress(clients, settings.state_table, report.event_id, [asdict(a) for a in report.actions])
        worth_telling = paging or any(a.changed or not a.ok for a in report.actions)
        if settings.topic_arn and worth_telling:
            notification = sns.render(report, min_severity=settings.notify_min_severity)
            chat_message = None
            if settings.chat_format:  # ECSGUARD_CHAT_FORMAT: HTTPS subscribers (AWS Chatbot) get a custom notification
                from ..render import chat

                chat_message = chat.render(report, min_severity=settings.notify_min_severity)
            report.message_id = actions.publish_notification(
                clients,
                topic_arn=settings.topic_arn,
                subject=notification.subject,
                message=sns.message_body(notification, chat=chat_message),
                attributes=notification.attributes,
            )
        elif worth_telling:
            logger.warning("findings not published: no topic configured (ECSGUARD_TOPIC_ARN)")
        return {"actions": [asdict(a) for a in report.actions], "messageId": report.message_id}

    ran: list[bool] = []

    def work_once() -> dict:
        ran.append(True)
        return work()

    outcome = once(report.event_id, work_once) if once and report.event_id else work_once()
    report.actions = [ActionResult(**a) for a in outcome["actions"]]
    report.message_id = outcome["messageId"]
    # A duplicate delivery: the state table already held this event's outcome; nothing was done again.
    report.duplicate = not ran
