"""The word tables behind a question's kind, one :class:`QuestionRules` per language.

:mod:`pipeline.text` owns what a question and its kind are and applies these tables; this module
only holds the words. Every pattern is a regular expression matched against one question in
lower case, typographic quotes made plain, leading fillers ("so", "okay", "um") removed and words
in quotes ("what does 'clunky' mean?") blanked; patterns starting with ``^`` are anchored at the
question's start, the others are matched as whole words anywhere.

The languages read are :data:`LANGUAGES`; a question in any other language is still counted
(it ends with "?") but its kind is left ``open`` with the reason "not read: <language>".
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QuestionRules:
    """One language's words. Each ``(reason, patterns)`` row is tried in the order of
    :func:`pipeline.text.classify`'s steps."""

    language: str
    fillers: str  # words said before a question without changing it ("so", "okay")
    wh: str  # question words that open an open question ("what", "how")
    scale: tuple[str, ...]  # a rating or scale: closed
    tags: tuple[str, ...]  # a tag at the end asking for agreement: leading
    negative: tuple[str, ...]  # a negative question ("isn't it ...?"): leading
    suggest: tuple[str, ...]  # an opinion offered for agreement ("don't you think"): leading
    loaded: tuple[str, ...]  # a feeling, problem or benefit the question takes as given: leading
    balanced: tuple[str, ...]  # both sides offered ("easy or hard"): a loaded word then leads nowhere
    invitation: tuple[str, ...]  # an invitation to talk ("is there anything else", "tell me"): open
    choice: tuple[str, ...]  # a choice between given options: closed
    number: tuple[str, ...]  # asks for a number ("how many", "how often"): closed
    yes_no: tuple[str, ...]  # wants a yes or no: closed
    openings: str = ""  # how a question without "?" opens ("tell me", "erzählen Sie")
    bare_tags: tuple[str, ...] = ()  # tags without a comma, read only after a statement ("..., isn't it?")
    declarative: tuple[str, ...] = ()  # a statement with "?" ("You must have been frustrated?"): leading
    stacked: str = ""  # where a second question starts inside one sentence ("What did you do, did you call?")
    intonation_yes_no: bool = False  # any question not opening with a question word is yes/no (es, fr)


QUESTION_OPENINGS_EN = (r"^(what|how|why|when|where|who|whom|which|whose|can you|could you|would you|will you|"
                        r"do you|did you|does|have you|has|had you|is there|is it|are you|were you|was it|"
                        r"tell me|walk me through|describe|talk me through|say more|anything else)\b")
_EN_AUX = (r"do|does|did|is|are|was|were|am|can|could|would|will|have|has|had|should|shall|may|might|"
           r"must|need")
_EN_NEG = (r"isn'?t|aren'?t|wasn'?t|weren'?t|don'?t|doesn'?t|didn'?t|won'?t|wouldn'?t|can'?t|couldn'?t|"
           r"shouldn'?t|haven'?t|hasn'?t|hadn'?t|ain'?t|mustn'?t")
_EN_PRONOUN = r"(it|you|they|we|he|she|that|there|i|this|those|these|one)"

EN = QuestionRules(
    language="en",
    fillers=r"so|and|but|okay|ok|um|uhm|uh|er|erm|well|right|now|sorry|alright|hmm|mm|oh|yeah|then|basically|"
            r"also|just|actually|like|great|cool|interesting|got it|i see|mm-hmm|about|roughly|approximately",
    wh=r"what|what's|whats|how|how's|why|when|where|where's|who|who's|whom|which|whose|in what|in which|"
       r"to what|for what|from what|with what|on what|at what|like what",
    scale=(r"(on )?a scale (of|from)", r"(from|between) (zero|one|0|1) (to|and) (five|seven|ten|5|7|10)",
           r"(zero|one|0|1) to (five|seven|ten|5|7|10)", r"out of (five|ten|5|10)", r"\brate (it|this|that|the|how|them)",
           r"how would you rate", r"give it a (score|rating|grade)", r"one being", r"score out of",
           r"star rating", r"how many stars"),
    tags=(rf", ({_EN_NEG}) {_EN_PRONOUN}( say| think| agree)?\??$",
          rf", ({_EN_AUX}) {_EN_PRONOUN}( too| not)?\??$",
          r", (right|yeah|yes|no|correct|huh|eh|true|ok|okay|yep|surely|see|agreed)\??$",
          r", (am i right|isn'?t that (right|so|true)|is that (right|so|true|correct)|is it not|"
          r"don'?t you agree|wouldn'?t you agree|you know|would you say|you agree)\??$"),
    bare_tags=(rf" ({_EN_NEG}) {_EN_PRONOUN}\??$", r" (am i right|is it not|right|yeah|correct)\?$"),
    openings=QUESTION_OPENINGS_EN,
    stacked=rf", (?=(?:{_EN_AUX}|{_EN_NEG}) (?:you|they|it|we|he|she|that|there|the|your|anyone|anybody) \w+ \w)",
    negative=(rf"^({_EN_NEG})\b", r"^(is|are|was|were|do|does|did) (it|you|they|that|this) not\b",
              r"^why (don'?t|wouldn'?t|didn'?t|not just) you\b"),
    suggest=(r"don'?t you (think|agree|feel|find)", r"(wouldn'?t|would) you agree", r"you'?d agree",
             r"^would you say\b", r"^so would you say\b", r"(would|is) it (be )?(fair|safe|right) to say",
             r"safe to say", r"\bsurely\b", r"\bobviously\b", r"i (imagine|assume|suppose|guess|bet|take it|expect)",
             r"i'?d (imagine|guess|assume|think)", r"am i right (in thinking|to think|that)",
             r"^would it (be|make it) (better|easier|nicer|simpler|faster|quicker) if",
             r"i'?m (guessing|assuming|sure|betting)", r"\bpresumably\b", r"\bdefinitely\b", r"\bcertainly\b",
             r"^(do|did|does|would|is|are|was) (you|it|they|that) really\b", r"\bof course\b",
             r"you (must|probably|surely)\b", r"\bmust (have|be)\b"),
    loaded=(r"frustrat\w*", r"annoy\w*", r"irritat\w*", r"aggravat\w*", r"wast(e|es|ed|ing)", r"hat(e|es|ed|ing)",
            r"lov(e|es|ed|ing)", r"painful", r"(a|the|real) pain", r"nightmare", r"terrible", r"awful",
            r"horrible", r"\bbad\b", r"the worst (part|thing|bit)", r"tedious", r"stress(ed|ful)", r"exhausting", r"confus(ing|ed)",
            r"useless", r"clunky", r"slows? (you|your|them|the team|us|things) down",
            r"slow (you|them|us) down", r"drives? you (crazy|nuts|mad)", r"bother(s|ed)? you",
            r"so (slow|hard|difficult|painful|complicated|annoying|bad|tedious|confusing|expensive|time-consuming)",
            r"how (easy|great|good|hard|difficult|happy|satisfied|useful|helpful|bad|awesome|amazing|painful|"
            r"complicated)\b",
            r"how much (easier|better|faster|simpler|nicer)", r"how much (time|money|effort)? ?would .* save",
            r"los(e|es|ing) (time|money|hours)", r"(are|is) (you|they|we) losing",
            r"(you|they|it) struggl\w*", r"(a|the) struggle", r"hassle", r"headaches?", r"chore",
            r"time-consuming", r"\bupset\b", r"relie(f|ved)", r"stress(es)? (you|them|him|her) out",
            r"how (excited|thrilled|relieved|pleased|delighted)\b", r"how much (would|will|does|did) (it|that|this) help"),
    balanced=(r"\bor (not|hard|difficult|easy|bad|good)\b", r"\bor (did|does|do|was|is)n'?t\b",
              r"(easy|hard|good|bad|difficult|better|worse) or "),
    invitation=(r"^(is|was) there (anything|something)", r"^(is|was) there any ?thing", r"\banything else\b",
                r"^anything\b", r"^any (questions|thoughts|other thoughts)", r"^(do|did) you have (anything|any questions|something)",
                r"^is there (anything|something)", r"(can|could|would|will) you (please )?(tell|walk|talk|take|give|show) (me|us)",
                r"(can|could|would) you (please |maybe |perhaps |possibly )?(describe|explain|share|show|elaborate|expand|clarify|give|talk)",
                r"would you be (willing|able|happy) to (share|describe|show|walk|talk|tell|explain|give)",
                r"^can we (go|come) back to", r"^can we talk about",
                r"(can|could|would) you say (a bit |a little |some ?thing )?more", r"would you mind (explaining|describing|telling|showing|walking|sharing)",
                r"^(tell|walk|talk|describe|explain|show|say|share)\b", r"^tell me\b", r"^say more\b",
                r"^help me understand", r"^give me an example"),
    choice=(r"\bor\b", r"^which (one|of)\b", r"^which (do|would|is|are) (you|they)\b"),
    number=(r"^(roughly |about |approximately |so )?how (many|much|often|long|old|big|far|frequently|soon)\b",
            r"^(what|which) (percentage|percent|share|proportion|fraction)", r"^how many times\b"),
    yes_no=(rf"^({_EN_AUX})\b", r"^(is|are|was|were) (there|it|that|this|they)\b", r"^any\b"),
    declarative=(r"^(you|you'?d|you'?re|you'?ve|you'?ll|your|it|it'?s|that|that'?s|this|this is|they|they'?re|"
                 r"we|we'?re|the|there'?s|he|she|everyone|nobody|everybody)\b",),
)

_DE_VERB_FIRST = (r"ist|sind|war|waren|wäre|wären|hat|haben|hast|habt|hatte|hatten|hätte|hätten|wird|werden|"
                  r"würde|würden|würdest|kann|können|kannst|könnte|könnten|soll|sollte|sollten|muss|müssen|"
                  r"darf|dürfen|mag|mögen|möchten|gibt|gab|nutzen|nutzt|benutzen|verwenden|machen|macht|"
                  r"arbeiten|kennen|kennst|wissen|weißt|finden|findest|brauchen|braucht|sehen|siehst|"
                  r"haben|geht|ging|läuft|lief|stört|hilft|half|funktioniert|bekommen|bekommt|gehen|wollen|willst")
DE = QuestionRules(
    language="de",
    fillers=r"also|und|aber|okay|ok|ähm|äh|hm|gut|ja|so|na|und dann|jetzt|nun|alles klar|verstehe",
    wh=r"was|wie|warum|wieso|weshalb|wer|wen|wem|wessen|wo|wohin|woher|wann|welche|welcher|welches|welchen|"
       r"welchem|wozu|womit|woran|worüber|wovon|wodurch|wofür|worauf|inwiefern|wieviel|wieviele|in welche\w*|"
       r"mit welche\w*|an welche\w*|bei welche\w*",
    scale=(r"skala", r"von (eins|null|1|0) bis (fünf|zehn|sieben|5|10|7)", r"auf einer skala",
           r"(bewerten|benoten)\b.*\b(bis|von)\b", r"schulnote", r"wie viele sterne"),
    tags=(r", (oder|nicht wahr|nicht|ne|gell|gelle|gelt|richtig|stimmt'?s|stimmt|ja|oder nicht|nicht so|"
          r"wa|korrekt|hm)\??$", r" (nicht wahr|oder nicht)\??$"),
    openings=r"^(erzählen|beschreiben|schildern|erklären|zeigen) sie\b|^(erzähl|beschreib|schilder|erklär|zeig)(e|t)?\b",
    negative=(rf"^({_DE_VERB_FIRST})\b.*\bnicht\b(?! nur)", r"^(nicht|kein\w*)\b"),
    suggest=(r"finden sie nicht", r"findest du nicht", r"stimm\w* (sie|du) (mir )?(doch )?zu", r"(würden|würdest) (sie|du) zustimmen",
             r"\bsicher(lich)?\b", r"\bbestimmt\b", r"\bdoch\b(?! mal)", r"\bdefinitiv\b", r"\bgarantiert\b",
             r"\bnatürlich\b", r"\boffensichtlich\b", r"ich (nehme an|vermute|schätze|wette)", r"\bwohl\b",
             r"\b(muss|müssen|musste) .* (sein|haben)\b"),
    loaded=(r"frustr\w*", r"nerv(t|en|ig|ige|iger|t es)\w*", r"ärger\w*", r"verschwend\w*", r"mühsam\w*", r"lästig\w*",
            r"schrecklich\w*", r"furchtbar\w*", r"schlimm\w*", r"katastroph\w*", r"zeitraubend\w*", r"hass\w*",
            r"albtraum", r"alptraum", r"umständlich\w*", r"stressig\w*", r"verlier\w* .*zeit", r"zeit .*verlier\w*",
            r"am meisten (stört|nervt|ärgert)", r"stress\w*",
            r"so (schwierig|schwer|mühsam|kompliziert|langsam|nervig|umständlich|aufwendig)", r"wie (einfach|toll|gut|schwer|schwierig|schlimm|praktisch|zufrieden|glücklich)\b",
            r"wie viel (einfacher|besser|schneller)", r"kostet (sie|dich|euch)"),
    balanced=(r"\boder (nicht|schwer|schwierig|einfach|schlecht|gut)\b",
              r"(einfach|schwer|gut|schlecht|schwierig) oder "),
    invitation=(r"gibt es (noch |sonst )*(noch )?(etwas|was|irgendetwas|irgendwas)", r"\bsonst noch\b",
                r"noch (etwas|was) (hinzufügen|ergänzen|sagen)", r"(haben|hast) (sie|du) (noch )?fragen",
                r"^(erzählen|beschreiben|schildern|erklären|zeigen) sie", r"^(erzähl|beschreib|schilder|erklär|zeig)\b",
                r"^(können|könnten|würden|kannst|könntest|würdest) (sie|du)\b.*\b(zeigen|erklären|beschreiben|erzählen|"
                r"schildern|sagen|geben|ausführen|erläutern)\b"),
    choice=(r"\boder\b(?!\??$)", r"^welche\w* (davon|von (den|beiden))\b"),
    number=(r"^(ungefähr |etwa )?wie (viele?|oft|lange|häufig|alt|groß|weit)\b", r"^wieviele?\b",
            r"^(wie viel|wieviel) prozent", r"^wann genau\b"),
    yes_no=(rf"^({_DE_VERB_FIRST})\b", r"^\w+ (sie|du|ihr|es|das|man|jemand|wir|er|ihre?|ihr team|dein\w*)\b"),
    declarative=(r"^(sie|du|das|es|die|der|ihr|ihre|man|wir|dann|ich|dein\w*)\b",),
)

ES = QuestionRules(
    language="es",
    fillers=r"y|pero|bueno|vale|entonces|o sea|pues|eh|este|mmm|ok|okey|ah|claro|a ver|vamos a ver|ya",
    wh=r"qué|cómo|por qué|cuándo|dónde|adónde|quién|quiénes|cuál|cuáles|cuánto|cuánta|cuántos|cuántas|"
       r"de qué|a qué|para qué|con qué|en qué|de dónde|a quién|con quién|de quién|por dónde|hasta qué|desde cuándo",
    scale=(r"escala", r"del? (uno|cero|1|0) al? (cinco|diez|siete|5|10|7)", r"califica\w*", r"puntua\w*",
           r"qué nota", r"cuántas estrellas"),
    tags=(r"(,\s*¿?|¿)(verdad|no|cierto|no es así|no es cierto|a que sí|vale|eh|sí|correcto|de acuerdo|ok|okey|claro)\??$",),
    openings=r"^¿|^(cuénte|cuéntame|cuente|cuenta|hábleme|háblame|descríbame|descríbeme|explíqueme|explícame|"
             r"muéstreme|muéstrame)",
    negative=(r"^no\b",),
    suggest=(r"no cree", r"no crees", r"^a que\b", r"(está|estaría|estás|estarías) de acuerdo", r"\bseguro que\b", r"\bseguramente\b",
             r"\bsin duda\b", r"verdad que", r"deb(e|ió|ía|ería) de (haber|ser|estar)", r"\bdefinitivamente\b",
             r"\bclaramente\b", r"\bobviamente\b", r"supongo que", r"me imagino que", r"imagino que"),
    loaded=(r"frustra\w*", r"molest\w*", r"tedios\w*", r"fastidi\w*", r"pierd\w*", r"perd(er|iendo|ido) (el )?tiempo",
            r"odi(a|as|o|an|ar)\b", r"horrible\w*", r"terrible\w*", r"desastr\w*", r"pesadilla", r"agotador\w*",
            r"estres\w*", r"engorros\w*", r"irrita\w*", r"encant\w*", r"dolor(es)? de cabeza",
            r"\blío\b", r"(tan|tanto) (difícil|complicad\w*|lent\w*|pesad\w*|molest\w*)",
            r"qué tan (fácil|frustrante|molesto|difícil|útil|bueno|malo|contento|satisfecho)",
            r"cuánto (más )?(mejor|más fácil|más rápido)"),
    balanced=(r"\bo (no|difícil|fácil|malo|bueno)\b", r"(fácil|difícil|bueno|malo) o "),
    invitation=(r"algo más", r"^hay algo", r"(agregar|añadir|decir|comentar) algo", r"alguna pregunta", r"^(cuénte|cuéntame|cuente|cuenta|hábleme|háblame|"
                r"descríbame|descríbeme|explíqueme|explícame|muéstreme|muéstrame)\w*",
                r"^(me )?(puede|podría|puedes|podrías) (usted )?(me )?(mostrar|explicar|contar|dar|decir|describir|hablar|enseñar)\w*",
                r"^(puede|podría|puedes|podrías) (explicar|describir|contar|mostrar|dar)\w*"),
    choice=(r"\bo\b(?!\??$)", r"^cuál (de|prefiere|prefieres)\b"),
    number=(r"^(más o menos |aproximadamente )?(cuánto|cuánta|cuántos|cuántas)\b", r"con qué frecuencia",
            r"cada cuánto", r"qué porcentaje", r"desde cuándo"),
    yes_no=(),
    intonation_yes_no=True,
)

FR = QuestionRules(
    language="fr",
    fillers=r"et|mais|alors|donc|bon|ok|okay|euh|ben|bah|d'accord|ah|oui|bien|très bien|du coup|enfin|voilà",
    wh=r"que|qu'est-ce|qu'est|qu'|quoi|quel|quelle|quels|quelles|comment|pourquoi|quand|où|qui|combien|"
       r"à quoi|à quel|à quelle|de quoi|d'où|lequel|laquelle|lesquels|lesquelles|par où|pour quoi|"
       r"en quoi|avec qui|à qui|de qui|jusqu'où|depuis quand|dans quel|dans quelle|sur quoi",
    scale=(r"échelle", r"de (un|zéro|1|0) à (cinq|dix|sept|5|10|7)", r"quelle note", r"\bnoter\b", r"combien d'étoiles",
           r"sur (cinq|dix|5|10)\b"),
    tags=(r", (n'est-ce pas|non|hein|c'est ça|pas vrai|oui|d'accord|vrai|correct|c'est bien ça|ok|okay|"
          r"je me trompe|on est d'accord)\s*\??$", r" n'est-ce pas\s*\??$"),
    openings=r"^(racontez|raconte|parlez|parle|décrivez|décris|expliquez|explique|montrez|montre)(-moi|-nous)?\b",
    negative=(r"^(n'|ne )", r"\b(ne|n')\b.*\b(pas|jamais|plus)\b"),
    suggest=(r"\bsûrement\b", r"\bcertainement\b", r"\bforcément\b", r"d'accord (pour dire|que)", r"vous ne trouvez pas",
             r"tu ne trouves pas", r"j'imagine", r"je suppose", r"\bsans doute\b", r"(a|avez|avait|aviez|ont|as) dû",
             r"dev(iez|ait|ais|aient) être", r"\bévidemment\b", r"\bbien sûr\b", r"\bclairement\b"),
    loaded=(r"frustr\w*", r"agaç\w*", r"agac\w*", r"énerv\w*", r"pénible\w*", r"ennuy\w*", r"perd\w* (du |de |votre |ton |son )?temps",
            r"temps perdu", r"perdez", r"cauchemar\w*", r"horrible\w*", r"terrible\w*", r"fastidieu\w*", r"galère\w*",
            r"à quel point", r"détest\w*", r"insupportable\w*", r"stressant\w*", r"épuisant\w*", r"gaspill\w*",
            r"adore\w*", r"embêt\w*", r"lourd\w*", r"casse-tête", r"stress\w*",
            r"si (difficile|compliqué\w*|lent\w*|pénible|long\w*)"),
    balanced=(r"\bou (pas|non|difficile|facile|mauvais|bon)\b", r"(facile|difficile|bon|mauvais) ou "),
    invitation=(r"autre chose", r"^y a-t-il (quelque chose|autre chose)", r"^(avez|as)-(vous|tu) des questions",
                r"des questions pour moi", r"^(racontez|raconte|parlez|parle|décrivez|décris|expliquez|explique|montrez|montre)\b",
                r"^(pouvez|pourriez|pourrais|peux)-(vous|tu) (me |m'en |nous )?(montrer|décrire|expliquer|donner|dire|raconter|parler|"
                r"détailler|préciser)\b", r"en dire (un peu )?plus", r"m'en dire plus"),
    choice=(r"\bou\b(?!\s*\??$)", r"^(lequel|laquelle) (des|préférez)"),
    number=(r"^(à peu près |environ )?combien\b", r"à quelle fréquence", r"tous les combien", r"quel pourcentage",
            r"depuis combien"),
    yes_no=(),
    intonation_yes_no=True,
)

RULES: dict[str, QuestionRules] = {r.language: r for r in (EN, DE, ES, FR)}
LANGUAGES: tuple[str, ...] = tuple(RULES)  # the languages whose question kinds are read
DEFAULT_LANGUAGE = "en"  # a sentence whose language is not known is read as English
