"""Month and weekday names in the languages agencies publish in.

A translation keeps its dates even when every word changes: "29 décembre",
"29. Dezember", "December 29", "29 декабря" and "12月29日" are one anchor.
Forms are listed per language because some collide across languages
("listopad" is November in Czech and October in Croatian); a text whose
language is unknown uses only the forms that mean the same month everywhere.
"""

from __future__ import annotations

from functools import lru_cache

# One entry per month, "|"-separated; inflected forms of an entry ","-separated.
MONTHS = {
    "en": "january|february|march|april|may|june|july|august|september|october|november|december",
    "de": "januar,jänner|februar,feber|märz|april|mai|juni|juli|august|september|oktober"
    "|november|dezember",
    "fr": "janvier|février,fevrier|mars|avril|mai|juin|juillet|août,aout|septembre|octobre"
    "|novembre|décembre,decembre",
    "es": "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre,setiembre|octubre"
    "|noviembre|diciembre",
    "it": "gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre"
    "|novembre|dicembre",
    "pt": "janeiro|fevereiro|março,marco|abril|maio|junho|julho|agosto|setembro|outubro"
    "|novembro|dezembro",
    "nl": "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november"
    "|december",
    "cs": "leden,ledna,lednu|únor,února,únoru|březen,března,březnu|duben,dubna,dubnu"
    "|květen,května,květnu|červen,června,červnu|červenec,července,červenci|srpen,srpna,srpnu"
    "|září|říjen,října,říjnu|listopad,listopadu|prosinec,prosince,prosinci",
    "pl": "styczeń,stycznia,styczniu|luty,lutego,lutym|marzec,marca,marcu"
    "|kwiecień,kwietnia,kwietniu|maj,maja,maju|czerwiec,czerwca,czerwcu|lipiec,lipca,lipcu"
    "|sierpień,sierpnia,sierpniu|wrzesień,września,wrześniu"
    "|październik,października,październiku|listopad,listopada,listopadzie"
    "|grudzień,grudnia,grudniu",
    "hr": "siječanj,siječnja,siječnju|veljača,veljače,veljači|ožujak,ožujka,ožujku"
    "|travanj,travnja,travnju|svibanj,svibnja,svibnju|lipanj,lipnja,lipnju"
    "|srpanj,srpnja,srpnju|kolovoz,kolovoza,kolovozu|rujan,rujna,rujnu"
    "|listopad,listopada,listopadu|studeni,studenoga,studenog,studenom|prosinac,prosinca,prosincu",
    "ru": "январь,января,январе|февраль,февраля,феврале|март,марта,марте|апрель,апреля,апреле"
    "|май,мая,мае|июнь,июня,июне|июль,июля,июле|август,августа,августе"
    "|сентябрь,сентября,сентябре|октябрь,октября,октябре|ноябрь,ноября,ноябре"
    "|декабрь,декабря,декабре",
    "uk": "січень,січня,січні|лютий,лютого,лютому|березень,березня,березні"
    "|квітень,квітня,квітні|травень,травня,травні|червень,червня,червні|липень,липня,липні"
    "|серпень,серпня,серпні|вересень,вересня,вересні|жовтень,жовтня,жовтні"
    "|листопад,листопада,листопаді|грудень,грудня,грудні",
}
WEEKDAYS = {
    "en": "monday|tuesday|wednesday|thursday|friday|saturday|sunday",
    "de": "montag|dienstag|mittwoch|donnerstag|freitag|samstag,sonnabend|sonntag",
    "fr": "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche",
    "es": "lunes|martes|miércoles,miercoles|jueves|viernes|sábado,sabado|domingo",
    "it": "lunedì,lunedi|martedì,martedi|mercoledì,mercoledi|giovedì,giovedi|venerdì,venerdi"
    "|sabato|domenica",
    "pt": "segunda-feira,segunda|terça-feira,terça|quarta-feira,quarta|quinta-feira,quinta"
    "|sexta-feira,sexta|sábado|domingo",
    "nl": "maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag",
    "cs": "pondělí|úterý|středa,středu|čtvrtek|pátek|sobota,sobotu|neděle,neděli",
    "pl": "poniedziałek|wtorek|środa,środę|czwartek|piątek|sobota,sobotę|niedziela,niedzielę",
    "hr": "ponedjeljak|utorak|srijeda,srijedu|četvrtak|petak|subota,subotu|nedjelja,nedjelju",
    "ru": "понедельник|вторник|среда,среду|четверг|пятница,пятницу|суббота,субботу|воскресенье",
    "uk": "понеділок|вівторок|середа,середу|четвер|п'ятниця,п'ятницю|субота,суботу|неділя,неділю",
}
# English words that are also ordinary words: a month or weekday only when capitalised.
CAPITALISED_ONLY = {"may", "march", "mars", "maj", "mai"}


def _table(spec: dict[str, str]) -> dict[str, dict[str, int]]:
    tables: dict[str, dict[str, int]] = {}
    for lang, entries in spec.items():
        table = tables.setdefault(lang, {})
        for number, forms in enumerate(entries.split("|"), start=1):
            for form in forms.split(","):
                table[form] = number
    return tables


def _unambiguous(tables: dict[str, dict[str, int]]) -> dict[str, int]:
    meanings: dict[str, set[int]] = {}
    for table in tables.values():
        for form, number in table.items():
            meanings.setdefault(form, set()).add(number)
    return {form: next(iter(ns)) for form, ns in meanings.items() if len(ns) == 1}


_MONTHS = _table(MONTHS)
_WEEKDAYS = _table(WEEKDAYS)
_ANY_MONTH = _unambiguous(_MONTHS)
_ANY_WEEKDAY = _unambiguous(_WEEKDAYS)


@lru_cache(maxsize=64)
def month_table(lang: str | None) -> dict[str, int]:
    """Forms → month number for `lang`, plus the forms no language disagrees on."""
    return {**_ANY_MONTH, **_MONTHS.get(lang or "", {})}


@lru_cache(maxsize=64)
def weekday_table(lang: str | None) -> dict[str, int]:
    return {**_ANY_WEEKDAY, **_WEEKDAYS.get(lang or "", {})}
