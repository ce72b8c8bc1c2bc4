"""A chat channel that exists only in tests: text in, texts out, no buttons, no edits, no photos.

It is what a new channel adapter amounts to (Zalo is one): a few lines between the channel's
messages and the shared chat conversation, with the update marker, the answer and the chat's
state committed together before anything is "sent".
"""

import itertools

from sme_bot.channels.chat import Capabilities, Conversation, Programme, Reply, User
from sme_bot.questionnaire import Questionnaire
from sme_bot.service import AssessmentService, Questionnaires
from sme_bot.storage import Store

CAPABILITIES = Capabilities("testchat", buttons=False, edits=False, photos=False)
# Message ids are unique across restarts of the channel, as a real messenger's are.
_MESSAGE_IDS = itertools.count(1)


class TestChat:
    __test__ = False  # not a test class, despite its name

    def __init__(self, store: Store, questionnaire: Questionnaire):
        service = AssessmentService(store, Questionnaires(questionnaire))
        self.conversation = Conversation(service, Programme("Chương trình thử", "0900 000 000"), CAPABILITIES)
        self.chats = service.chats(CAPABILITIES.channel)
        self.service = service

    def send(self, user_id: str, text: str, *, message_id: str | None = None) -> list[str]:
        """One incoming message; the texts the owner gets back. A message id seen before is ignored."""
        message_id = message_id or f"m{next(_MESSAGE_IDS)}"
        user = User(id=user_id, chat_id=user_id)
        with self.service.transaction():
            if not self.chats.first_time(message_id):
                return []
            reply: Reply = self.conversation.text(user, text)
        for number, message in enumerate(reply.messages):
            if message.question and reply.respondent is not None:
                self.conversation.delivered(reply.respondent, f"{message_id}-{number}")
        return [message.text for message in reply.messages]
