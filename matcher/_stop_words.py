"""Stop words of the languages the matcher detects and reads, as data (one table a language).

Kept apart from the text code the way scikit-learn keeps `_stop_words.py`: English is
scikit-learn's list; the others are short hand-made lists of function words, written without
accents because texts are compared after `text.normalise` strips them.
"""

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_SPANISH = """
a al algo algunas algunos ante antes aquel aquella aquellas aquellos aqui asi aun bajo bien
cada casi como con contra cual cuales cuando cuanto de del desde donde dos durante e el ella
ellas ellos en entre era eran es esa esas ese eso esos esta estaba estado estan estar estas
este esto estos fue fueron ha habia han hasta hay la las le les lo los mas me mediante mi mis
mismo mucho muy nada ni no nos nosotros o otra otras otro otros para pero poco por porque pues
que quien quienes se sea segun ser si sido sin sino sobre solo son su sus tal tambien tan
tanto te tiene tienen todo todos toda todas tras tu tus un una unas uno unos usted ya yo cual
cuyo cuya cuyos cuyas dicho dicha puede pueden hacer hace sera seran asimismo ademas traves
""".split()  # noqa: SIM905
_FRENCH = """
au aux avec ce ces dans de des du elle en et eux il je la le les leur lui ma mais me meme mes
moi mon ne nos notre nous ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un
une vos votre vous est sont etre ont cette aussi afin ainsi dont entre leurs plus selon
""".split()  # noqa: SIM905
_GERMAN = """
aber als am an auch auf aus bei bin bis das dass dem den der des die durch ein eine einem einen
einer eines es fur im in ist mit nach nicht oder sich sie sind so uber um und unter von vor
werden wird wie zu zum zur wurde wurden sowie
""".split()  # noqa: SIM905
_PORTUGUESE = """
ao aos as com como da das de do dos e em entre mais mas na nas no nos o os ou para pela pelo
por que se sem sua suas seu seus uma um foi sao tambem
""".split()  # noqa: SIM905
_ITALIAN = """
al alla alle anche che chi con da dal dalla dei del della delle di e gli il in la le nel nella
non per piu si sono su tra una uno un questo questa essere come sul sulla degli
""".split()  # noqa: SIM905
_DUTCH = """
aan al als bij dat de den der die dit door een en er het hij in is met naar niet of om onder
ook op over te tot uit van voor was wat werd worden zijn zich ze zo
""".split()  # noqa: SIM905
_SWEDISH = """
att av de den det detta dom efter en ett for fran har i inom med mot och om pa som till under
var vid vi ar samt genom
""".split()  # noqa: SIM905
_FINNISH = """
ja on ei se joka jotka myos seka tai etta kanssa ovat oli mukaan
""".split()  # noqa: SIM905

STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(ENGLISH_STOP_WORDS),
    "es": frozenset(_SPANISH),
    "fr": frozenset(_FRENCH),
    "de": frozenset(_GERMAN),
    "pt": frozenset(_PORTUGUESE),
    "it": frozenset(_ITALIAN),
    "nl": frozenset(_DUTCH),
    "sv": frozenset(_SWEDISH),
    "fi": frozenset(_FINNISH),
}
