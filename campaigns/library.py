"""The office's template library: the starter set, language variants, previews.

Templates of the same name and channel are one message in several languages; the
debtor's language picks the variant and English (or the template the step names) is
the fallback. Required disclosures never live in a template: the gate names them and
`rendering.render` appends them.
"""

from types import SimpleNamespace

from django.db import transaction

from campaigns import rendering
from campaigns.models import MessageTemplate
from compliance.content import content_flags, template_problems
from recovery import tenancy

LANGUAGES = [("en", "English"), ("es", "Spanish")]

# (name, channel, language, subject, body). Plain, warm, and never a threat: options
# first, a person to talk to, and room for a hard time.
STARTER = [
    (
        "Friendly reminder",
        "email",
        "en",
        "A quick note about your {{ creditor_name }} account",
        "Hello {{ first_name }},\n\nWe're reaching out about your {{ creditor_name }} account "
        "{{ reference }}, which has a balance of {{ balance }} {{ currency }}.\n\nWhenever it "
        "suits you, you can see the details, pay, or choose a plan online: {{ portal_link }}\n\n"
        "If something doesn't look right, tell us and we'll look into it. If you'd rather talk, "
        "call us at {{ office_phone }}.\n\nKind regards,\n{{ office_name }}",
    ),
    (
        "Friendly reminder",
        "email",
        "es",
        "Una nota sobre su cuenta de {{ creditor_name }}",
        "Hola {{ first_name }}:\n\nLe escribimos sobre su cuenta {{ reference }} de "
        "{{ creditor_name }}, con un saldo de {{ balance }} {{ currency }}.\n\nCuando le "
        "convenga, puede ver los detalles, pagar o elegir un plan en línea: {{ portal_link }}\n\n"
        "Si algo no le parece correcto, díganos y lo revisaremos. Si prefiere hablar, llámenos "
        "al {{ office_phone }}.\n\nAtentamente,\n{{ office_name }}",
    ),
    (
        "Friendly reminder",
        "sms",
        "en",
        "",
        "Hi {{ first_name }}, {{ office_name }} here about your {{ creditor_name }} account. "
        "See your options any time: {{ portal_link }}",
    ),
    (
        "Friendly reminder",
        "sms",
        "es",
        "",
        "Hola {{ first_name }}, le saluda {{ office_name }} por su cuenta de {{ creditor_name }}. "
        "Vea sus opciones cuando quiera: {{ portal_link }}",
    ),
    (
        "Offer of a payment plan",
        "email",
        "en",
        "A payment plan that fits your budget",
        "Hello {{ first_name }},\n\nPaying {{ balance }} {{ currency }} at once isn't easy for "
        "everyone. You can split your {{ creditor_name }} balance into smaller payments on dates "
        "that work for you, and set it up yourself in a few minutes: {{ portal_link }}\n\n"
        "Prefer to talk it through? Call {{ office_phone }} and we'll find something that works."
        "\n\nKind regards,\n{{ office_name }}",
    ),
    (
        "Offer of a payment plan",
        "email",
        "es",
        "Un plan de pagos a su medida",
        "Hola {{ first_name }}:\n\nPagar {{ balance }} {{ currency }} de una vez no es fácil para "
        "todos. Puede dividir su saldo de {{ creditor_name }} en pagos más pequeños, en las "
        "fechas que le convengan, y configurarlo usted mismo en unos minutos: {{ portal_link }}"
        "\n\n¿Prefiere hablarlo? Llame al {{ office_phone }} y buscaremos una solución."
        "\n\nAtentamente,\n{{ office_name }}",
    ),
    (
        "Offer of a payment plan",
        "sms",
        "en",
        "",
        "Hi {{ first_name }}, you can pay your {{ creditor_name }} balance in smaller monthly "
        "payments. Set up a plan: {{ portal_link }}",
    ),
    (
        "Offer of a payment plan",
        "sms",
        "es",
        "",
        "Hola {{ first_name }}, puede pagar su saldo de {{ creditor_name }} en cuotas más "
        "pequeñas. Cree su plan: {{ portal_link }}",
    ),
    (
        "Lump-sum discount",
        "email",
        "en",
        "An option to settle for less",
        "Hello {{ first_name }},\n\nIf paying in one go is possible for you, you may be able to "
        "settle your {{ creditor_name }} account {{ reference }} for less than the full "
        "{{ balance }} {{ currency }}. See the amount on offer and decide in your own time: "
        "{{ portal_link }}\n\nIf a single payment isn't realistic, a plan is always an option too."
        "\n\nKind regards,\n{{ office_name }} · {{ office_phone }}",
    ),
    (
        "Lump-sum discount",
        "email",
        "es",
        "Una opción para liquidar por menos",
        "Hola {{ first_name }}:\n\nSi puede pagar de una sola vez, es posible que pueda liquidar "
        "su cuenta {{ reference }} de {{ creditor_name }} por menos del total de {{ balance }} "
        "{{ currency }}. Vea la cantidad ofrecida y decida con calma: {{ portal_link }}\n\nSi un "
        "solo pago no es posible, también puede elegir un plan.\n\nAtentamente,\n"
        "{{ office_name }} · {{ office_phone }}",
    ),
    (
        "Lump-sum discount",
        "sms",
        "en",
        "",
        "Hi {{ first_name }}, you may be able to settle your {{ creditor_name }} account for "
        "less with one payment. Details: {{ portal_link }}",
    ),
    (
        "Lump-sum discount",
        "sms",
        "es",
        "",
        "Hola {{ first_name }}, podría liquidar su cuenta de {{ creditor_name }} por menos con un "
        "solo pago. Detalles: {{ portal_link }}",
    ),
    (
        "Hardship help",
        "email",
        "en",
        "If things are hard right now, we can help",
        "Hello {{ first_name }},\n\nLife sometimes gets in the way: a job change, illness, family "
        "needs. If that's where you are, we'd like to know. We can pause, lower your payments "
        "for a while, or set up a small plan, and we can point you to free, independent debt "
        "advice.\n\nTell us what's going on, privately, here: {{ portal_link }} or call "
        "{{ office_phone }}.\n\nWith care,\n{{ office_name }}",
    ),
    (
        "Hardship help",
        "email",
        "es",
        "Si ahora es un momento difícil, podemos ayudar",
        "Hola {{ first_name }}:\n\nA veces la vida se complica: un cambio de trabajo, una "
        "enfermedad, la familia. Si es su caso, nos gustaría saberlo. Podemos hacer una pausa, "
        "bajar sus pagos por un tiempo o crear un plan pequeño, y podemos indicarle asesoría "
        "gratuita e independiente sobre deudas.\n\nCuéntenos lo que pasa, en privado, aquí: "
        "{{ portal_link }} o llame al {{ office_phone }}.\n\nCon atención,\n{{ office_name }}",
    ),
    (
        "Hardship help",
        "sms",
        "en",
        "",
        "Hi {{ first_name }}, if money is tight right now, {{ office_name }} can pause or lower "
        "payments. Tell us here: {{ portal_link }}",
    ),
    (
        "Hardship help",
        "sms",
        "es",
        "",
        "Hola {{ first_name }}, si el dinero está justo, {{ office_name }} puede pausar o bajar "
        "sus pagos. Díganos aquí: {{ portal_link }}",
    ),
    (
        "Formal notice",
        "email",
        "en",
        "Notice about your {{ creditor_name }} account",
        "Dear {{ full_name }},\n\nThis is a formal notice about your {{ creditor_name }} account "
        "{{ reference }}. Our records show a balance of {{ balance }} {{ currency }}.\n\nWe have "
        "written before and would still like to resolve this with you. You can pay, set up a "
        "plan, ask for a reduced settlement, or tell us if you believe the balance is wrong: "
        "{{ portal_link }}\n\nYou can also reach us at {{ office_phone }}.\n\nSincerely,\n"
        "{{ office_name }}",
    ),
    (
        "Formal notice",
        "email",
        "es",
        "Aviso sobre su cuenta de {{ creditor_name }}",
        "Estimado/a {{ full_name }}:\n\nEste es un aviso formal sobre su cuenta {{ reference }} "
        "de {{ creditor_name }}. Nuestros registros muestran un saldo de {{ balance }} "
        "{{ currency }}.\n\nLe hemos escrito antes y seguimos queriendo resolverlo con usted. "
        "Puede pagar, crear un plan, pedir una liquidación reducida o decirnos si cree que el "
        "saldo es incorrecto: {{ portal_link }}\n\nTambién puede llamarnos al {{ office_phone }}."
        "\n\nAtentamente,\n{{ office_name }}",
    ),
    (
        "Formal notice",
        "letter",
        "en",
        "Notice about your {{ creditor_name }} account",
        "Dear {{ full_name }},\n\nThis is a formal notice about your {{ creditor_name }} account "
        "{{ reference }}, with a balance of {{ balance }} {{ currency }}.\n\nWe would like to "
        "resolve this with you. You can pay, set up a plan or tell us if you believe the balance "
        "is wrong, online at {{ portal_link }} or by calling {{ office_phone }}.\n\nSincerely,\n"
        "{{ office_name }}",
    ),
    (
        "Formal notice",
        "letter",
        "es",
        "Aviso sobre su cuenta de {{ creditor_name }}",
        "Estimado/a {{ full_name }}:\n\nEste es un aviso formal sobre su cuenta {{ reference }} "
        "de {{ creditor_name }}, con un saldo de {{ balance }} {{ currency }}.\n\nQueremos "
        "resolverlo con usted. Puede pagar, crear un plan o decirnos si cree que el saldo es "
        "incorrecto, en línea en {{ portal_link }} o llamando al {{ office_phone }}.\n\n"
        "Atentamente,\n{{ office_name }}",
    ),
]


@transaction.atomic
def starter_templates_create(*, office):
    """Give the office the starter set (the ones it does not have yet, by name, channel
    and language). Idempotent; never overwrites an office's own edits."""
    with tenancy.office_context(office.id):
        have = set(MessageTemplate.objects.values_list("name", "channel", "language"))
        rows = [
            MessageTemplate(
                office_id=office.id,
                name=name,
                channel=channel,
                language=language,
                subject=subject,
                body=body,
            )
            for name, channel, language, subject, body in STARTER
            if (name, channel, language) not in have
        ]
        MessageTemplate.objects.bulk_create(rows)
    return len(rows)


class TemplateIndex:
    """The office's templates, loaded once, for choosing language variants in a batch."""

    def __init__(self, templates=None):
        templates = list(MessageTemplate.objects.all() if templates is None else templates)
        self.by_id = {t.id: t for t in templates}
        self.by_key = {(t.name, t.channel, t.language): t for t in templates}

    def variant(self, template_id, language):
        """The template in the debtor's language (same name and channel), else itself."""
        template = self.by_id.get(template_id)
        if template is None:
            return None
        return self.by_key.get((template.name, template.channel, language or "en"), template)


def step_template_id(step, channel, variant=""):
    """The template id a step uses on a channel for a variant (or None)."""
    if variant:
        for v in step.variants or []:
            if v.get("key") == variant and (v.get("templates") or {}).get(channel):
                return int(v["templates"][channel])
    chosen = (step.templates or {}).get(channel)
    if chosen:
        return int(chosen)
    return step.template_id if step.template_id else None


def step_template(step, channel, *, language, variant="", index):
    return index.variant(step_template_id(step, channel, variant), language)


def template_review(*, subject, body, channel):
    """What the author sees beside the editor: merge-field errors (blocking), content
    problems (warnings with the rule), and the flags the gate will read."""
    text = f"{subject or ''}\n{body or ''}"
    errors = [e for e in (rendering.template_check(subject), rendering.template_check(body)) if e]
    kind = "voicemail" if channel == "call" else "message"
    return {
        "errors": list(dict.fromkeys(errors)),
        "problems": template_problems(text, kind=kind),
        "flags": sorted(content_flags(text)),
    }


SAMPLE = SimpleNamespace(first_name="Maria", last_name="Lopez", display_name="Maria Lopez", id=0)


def sample_values(office):
    """Merge values for a made-up debtor, for the editor's live preview."""
    return {
        "first_name": "Maria",
        "last_name": "Lopez",
        "full_name": "Maria Lopez",
        "balance": "1,250.00",
        "currency": "USD",
        "reference": "HR-100042",
        "creditor_name": "Lakeside Credit Union",
        "office_name": office.name,
        "office_phone": office.public_phone or "(555) 010-0000",
        "portal_link": "https://pay.example/p/…",
    }
