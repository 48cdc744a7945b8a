"""The canned replies a contact gets when the model cannot answer, per language.

The platform is Brazilian, so Portuguese is the default; a number picks another language
(``language``) and may override any single reply (``replies``). The contact never sees an
error text: a budget, a pause or a provider failure each get a polite sentence.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "reply_for"]

DEFAULT_LANGUAGE = "pt-BR"

LANGUAGES: Mapping[str, Mapping[str, str]] = {
    "pt-BR": {
        "budget": (
            "No momento não consigo responder. Por favor, tente novamente mais tarde. "
            "Obrigado pela compreensão!"
        ),
        "paused": (
            "Nosso atendimento automático está temporariamente indisponível. "
            "Por favor, tente novamente mais tarde."
        ),
        "apology": (
            "Desculpe, tive um problema para responder agora. "
            "Por favor, envie sua mensagem novamente em alguns minutos."
        ),
        "text_only": "Por enquanto eu só consigo ler mensagens de texto. Pode escrever, por favor?",
        "voice_too_long": (
            "Seu áudio ficou um pouco longo para mim. "
            "Pode mandar um áudio mais curto ou escrever a mensagem, por favor?"
        ),
    },
    "en": {
        "budget": "I can't answer right now. Please try again later. Thank you!",
        "paused": "Our automatic assistant is temporarily unavailable. Please try again later.",
        "apology": "Sorry, I had a problem answering just now. Please try again in a few minutes.",
        "text_only": "For now I can only read text messages. Could you type it, please?",
        "voice_too_long": (
            "Your voice message is a bit long for me. Could you send a shorter one or type it?"
        ),
    },
    "es": {
        "budget": "En este momento no puedo responder. Por favor, inténtalo más tarde. ¡Gracias!",
        "paused": (
            "Nuestro asistente automático no está disponible por ahora. "
            "Por favor, inténtalo más tarde."
        ),
        "apology": (
            "Disculpa, tuve un problema para responder. "
            "Por favor, vuelve a escribir en unos minutos."
        ),
        "text_only": "Por ahora solo puedo leer mensajes de texto. ¿Puedes escribirlo?",
        "voice_too_long": (
            "Tu audio es un poco largo para mí. ¿Puedes enviar uno más corto o escribirlo?"
        ),
    },
}


def reply_for(kind: str, *, language: str, overrides: Mapping[str, str]) -> str:
    """The ``kind`` reply for a number; an override wins (an empty override means "send
    nothing", which only ``text_only`` honours)."""
    if kind in overrides:
        return overrides[kind]
    table = LANGUAGES.get(language) or LANGUAGES[DEFAULT_LANGUAGE]
    return table[kind]
