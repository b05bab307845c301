"""Entity resolution: which records from CORDIS, ROR, registers and municipality lists are one real organisation.

Pure: records in, a `Resolution` out; nothing is written and the records are not changed. The clusters are a
mapping record id -> canonical id: a merge is undone by dropping the mapping or forbidding the pair in an
override file, and the same input always gives the same clusters and canonical ids.

Evidence, in this order (``docs/entity-resolution.md`` has the rules and the thresholds):
1. a user's forced merges (override file);
2. exact identifiers: PIC, ROR id, ISNI, Wikidata, GRID, FundRef; a VAT number only with support from the
   name or the place (a state's or a group's VAT number covers many organisations);
3. a municipality (LAU) and the government named after it ("COMUNE DI TORINO" <-> Torino);
4. names compared within a country, normalised (case, accents, transliteration, legal forms, word order, one
   word in many languages), helped by city, distance, website and acronym; a hospital, faculty, library,
   press, museum, school or department never matches an organisation that is not one.
A user's forbidden pairs are never joined; a ROR record or a municipality never joins another record of its
own source (both registries are deduplicated); two records of one source are not chained through a third
unless they match each other.
"""

from __future__ import annotations

import csv
import math
import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from ecosystem.domain.errors import BadInputError
from ecosystem.domain.models import Municipality, Organisation
from ecosystem.domain.nuts import normalise_country
from ecosystem.domain.places import CITY_ALIASES
from ecosystem.domain.text import fold, is_placeholder

__all__ = [
    "ACCEPT", "DEDUPLICATED_SOURCES", "DIFFERENT_LEGAL_FORMS", "EXCLUSIVE_SCHEMES", "REVIEW",
    "SUPPORTER_PREFIXES", "EntityRecord", "MatchPair", "Overrides", "Resolution",
    "load_overrides", "normalise_name", "record_from_municipality", "record_from_organisation", "records_from",
    "resolve_entities", "write_review",
]

# Thresholds and scores of the rules (docs/entity-resolution.md). Unless said otherwise, each was tuned on the
# tuning half of the hand-labelled pairs (tests/data/entity_pairs.csv; `bench/resolve.py --errors` lists the
# tuning half's wrong pairs) for precision >= 0.98 and recall >= 0.90, the held-out half left for measuring.

# decisions
ACCEPT = 90.0        # a pair scoring this or more is one organisation
REVIEW = 78.0        # from here up to ACCEPT: uncertain, written to the review file, not merged
KEEP = 60.0          # weaker pairs are not reported in `Resolution.pairs`
MAX_SCORE = 100.0    # scores are capped here; an identifier, an override or a municipality's name scores this

# names
WHOLE_NAME_WEIGHT = 0.4     # share of the whole names in the name score ...
CORE_NAME_WEIGHT = 0.6      # ... and of their distinctive words (generic words such as "university" left out)
CONTAINED = 92.0     # the name score of a name holding the other whole plus a qualifier (with witnesses)
PART_PENALTY = 15.0  # a part of a name ("X" of "X - Y") counts less than a whole name
MIN_ACRONYM = 3      # characters an acronym needs to count as evidence ("TU" or "AB" name too many)

# place
SAME_PLACE_KM = 15.0        # this close (or the same city): the same place
SAME_PLACE_BONUS = 4.0
NEAR_KM = 50.0              # up to this far: near
NEAR_BONUS = 1.0
FAR_KM = 100.0              # farther than this: far apart ...
FAR_PENALTY = 8.0           # ... which costs this,
NEARLY_SAME_NAMES = 97.0    # ... unless the names score this or more (a head office and a main site),
FAR_PENALTY_SAME_NAMES = 3.0  # ... which costs only this
DIFFERENT_CITY_PENALTY = 4.0  # different cities and no coordinates to say how far apart
EARTH_RADIUS_KM = 6371.0    # mean radius, for great-circle distances

# other witnesses
SAME_WEBSITE_BONUS = 5.0    # the same home page host on both records
SAME_ACRONYM_BONUS = 3.0    # a shared acronym alone
ACRONYM_AND_PLACE = ACCEPT + 2  # at least this with a shared acronym and the same place or website ...
ACRONYM_MIN_NAMES = 50.0    # ... when the names score this or more (both place and website: any names)
CONTAINED_UNWITNESSED = REVIEW + 2  # at most this for a name holding the other without place and second witness
COMPANY_VS_NONPROFIT = REVIEW + 4   # at most this for a company and a foundation or association: two persons
LEGAL_FORM_PENALTY = 8.0    # legal forms both stated and different ("SA" vs "SAS")
VAT_NAMES_SUPPORT = 80.0    # the same VAT number merges when the names score this or more (or same place)
DISTINCT_WORD = 3           # characters a shared name word needs to support a same VAT number

# blocking and municipalities
MAX_POSTING = 40     # a name word shared by more records of a country than this makes no candidates
RAREST_WORDS = 2     # a record whose words are all common makes candidates with its this many rarest words
MIN_BLOCKING_WORD = 2       # shorter name words make no candidates
DOMINANT_POPULATION = 10    # a municipality this many times as populous as the next of its name is meant
SAME_PLACE_NAME = 80        # fuzz.ratio from which a record's city names the same place as a government's name
DEDUPLICATED_SOURCES = frozenset({"ror", "lau"})

# legal identity
# Identifier schemes of which a legal entity has one value: two records holding different values of one of these
# (two PICs, two national organisation numbers, two VAT numbers) are two legal entities and are never merged by
# names, places or a shared identifier of another scheme; only a user's override joins them (a source that says
# they are one lists both values, and then the values are not different). `None`: every scheme a record carries.
EXCLUSIVE_SCHEMES: frozenset[str] | None = None
# schemes that never separate two records (none today: kept so that a scheme can be let through by name)
NON_EXCLUSIVE_SCHEMES: frozenset[str] = frozenset()
LEGAL_ENTITIES = "two legal entities"  # the reason given when different identifiers keep two records apart
DIFFERENT_LEGAL_FORMS = REVIEW + 4  # at most this for two records stating different legal forms (AS vs ASA)
# Names opening with these (folded words) are an organisation *around* another one (its friends, its supporters'
# foundation, an association of its kind), never that organisation: such a name and one without the prefix are
# never one organisation.
SUPPORTER_PREFIXES = tuple(tuple(p.split()) for p in (
    "friends of", "foundation of", "association of", "society of friends of", "supporters of", "alumni of",
    "freunde", "freundeskreis", "forderverein", "verein der freunde", "gesellschaft der freunde",
    "amis de", "amis du", "amis des", "les amis", "association des amis", "societe des amis",
    "amici di", "amici del", "amici della", "associazione amici", "associazione degli amici",
    "amigos de", "amigos del", "asociacion de amigos", "associacao dos amigos", "amics de", "associacio d amics",
    "vrienden van", "vereniging vrienden", "stichting vrienden", "venner av", "vanner av", "vanner till",
    "venners forening", "ystavat", "przyjaciele", "stowarzyszenie przyjaciol", "fundacja przyjaciol",
    "pratele", "spolek pratel", "baratai", "prietenii", "asociatia prietenii"))
IDENTIFIER_KEYS = ("pic", "ror", "isni", "wikidata", "grid", "fundref", "lau")


# ------------------------------------------------------------------------------------------------ records

@dataclass(frozen=True)
class EntityRecord:
    """What entity resolution looks at in one source record (see `record_from_organisation`)."""

    id: str
    source: str
    name: str
    names: tuple[str, ...] = ()
    acronyms: tuple[str, ...] = ()
    country: str | None = None
    city: str | None = None
    lat: float | None = None
    lon: float | None = None
    identifiers: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    kind: str = "organisation"  # or "municipality": a LAU, matched only to the government named after it
    population: int | None = None


def record_from_organisation(org: Organisation) -> EntityRecord:
    """The entity-resolution view of an organisation (a one-word short name counts as an acronym)."""
    source = org.sources[0].source if org.sources else (org.id.split(":", 1)[0] if ":" in org.id else "unknown")
    names = [n for n in org.names if not is_placeholder(n)]
    acronyms = [a for a in org.acronyms if not is_placeholder(a)]
    if org.short_name and not is_placeholder(org.short_name):
        (names if " " in org.short_name.strip() else acronyms).append(org.short_name)
    loc = org.location
    identifiers = {k: v for k, v in org.identifiers.items() if not is_placeholder(v)}
    return EntityRecord(id=org.id, source=source, name="" if is_placeholder(org.name) else org.name,
                        names=tuple(dict.fromkeys(names)), acronyms=tuple(dict.fromkeys(acronyms)),
                        country=org.country or loc.country, city=None if is_placeholder(loc.city) else loc.city,
                        lat=loc.lat, lon=loc.lon, identifiers=identifiers, url=org.url)


def record_from_municipality(m: Municipality) -> EntityRecord:
    """A municipality (LAU) as a record with id ``lau:<country>:<LAU code>``."""
    country = normalise_country(m.country) or m.country
    names = (m.name_latn,) if m.name_latn and m.name_latn != m.name else ()
    return EntityRecord(id=f"lau:{country}:{m.lau_code}", source="lau", name=m.name, names=names,
                        country=country, city=m.name, identifiers={"lau": f"{country}:{m.lau_code}"},
                        kind="municipality", population=m.population)


def records_from(items: Iterable[Any]) -> list[EntityRecord]:
    """EntityRecords from Organisations and Municipalities (EntityRecords pass through)."""
    return [record_from_organisation(x) if isinstance(x, Organisation)
            else record_from_municipality(x) if isinstance(x, Municipality) else x for x in items]


@dataclass(frozen=True)
class MatchPair:
    """A judged pair: score 0-100, decision "same", "uncertain" or "different", and why."""

    left: str
    right: str
    score: float
    decision: str
    reasons: tuple[str, ...]


@dataclass
class Overrides:
    """A user's decisions, over everything else: pairs to merge and pairs never to merge."""

    merge: list[tuple[str, str]] = field(default_factory=list)
    forbid: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Resolution:
    """Clusters as a mapping record id -> canonical id, with the judged pairs behind them."""

    canonical: dict[str, str]
    clusters: dict[str, list[str]]
    pairs: list[MatchPair]
    uncertain: list[MatchPair]
    warnings: list[str] = field(default_factory=list)

    def same(self, a: str, b: str) -> bool:
        """Whether two record ids landed in one cluster."""
        return a in self.canonical and self.canonical.get(a) == self.canonical.get(b)

    def members(self, record_id: str) -> list[str]:
        """All record ids in the cluster of `record_id` (itself alone if unknown)."""
        root = self.canonical.get(record_id)
        return list(self.clusters[root]) if root else [record_id]


# ------------------------------------------------------------------------------------------------ vocabulary

def _words(text: str) -> list[str]:
    return text.split()


# One word in many languages -> one canonical word (folded forms).
_SYNONYMS: dict[str, str] = {form: canon for canon, forms in {
    "university": "university universities universitat universitaet universiteit universita universite universidad "
                  "universidade universitet universitetet universitatea universitas universiteti uniwersytet "
                  "univerzita univerza univerzitet sveuciliste sveucilista yliopisto yliopiston egyetem panepistimio "
                  "panepistemio haskoli haskolinn haskolans ulikool universitaire universitaires universitario "
                  "universitaria universitari universitair universitats uni universitatis universitetas universitate",
    "tech": "technical technische technischen technology technologie technologies tecnica tecnico tecnologica "
            "tecnologico technicka technicke technicky technikos tekniska teknillinen technologii tehnicka tehniska "
            "technological technologique technologiques tecnologia techniki tehnologija",
    "polytechnic": "polytechnic politecnico politecnica polytechnique politechnika politehnica politecnic "
                   "polytechnical politecnici polytechnika",
    "medical": "medical medizinische medizinischen medica medico medicale medisch medische medisinsk medicine "
               "medicina medizin lekarska lekarsky orvostudomanyi",
    "hospital": "hospital hospitals hopital hopitaux hospitalier hospitaliere hospitaliers hospitalar hospitalario "
                "hospitalaria ospedale ospedaliera ospedaliero ospedali krankenhaus klinikum kliniken spital spitali "
                "ziekenhuis sjukhus sjukhuset sykehus sykehuset sairaala szpital nemocnice bolnica bolnice "
                "nosokomeio korhaz policlinico nhs mc umc",
    "institute": "institute institut instituut istituto instituto institutet instytut institutul institutt intezet "
                 "ustav institution institucio institucion instituicao institutes instituts",
    "centre": "centre center centrum centro zentrum centar centras keskus kozpont centers centres",
    "foundation": "foundation fondation stiftung fundacion fundacio fondazione stichting fundacao stiftelsen "
                  "stiftelse saatio fundatia fundacja nadace fondet",
    "association": "association associazione asociacion associacio associacao verein vereniging vereinigung forening "
                   "foreningen udruga drustvo zdruzenje asociatia stowarzyszenie sdruzeni egyesulet",
    "society": "society societe societa sociedad sociedade gesellschaft selskab sallskap",
    "academy": "academy akademie accademia academia akademia akademi akadeemia academie akademien",
    "faculty": "faculty fakultet fakultat faculte facultad facolta wydzial fakulteta fakulta facultatea",
    "school": "school ecole escola escuela scuola schule skola szkola scoala",
    "library": "library bibliothek bibliotheque biblioteca bibliotheek biblioteket bibliotek knihovna knjiznica",
    "press": "press verlag publishing editions",
    "museum": "museum musee museo muzeum muzej museu museet",
    "ministry": "ministry ministries ministerium ministere ministerio ministero ministerie ministerstvo ministerstwo "
                "ministeriet ministerul ministarstvo ministrstvo ministerija ministerijos ministrija ministeerium "
                "ministerstva ministerstwa ypourgeio ypourgeion",
    "department": "department departement departament departamento dipartimento abteilung dept",
    "laboratory": "laboratory laboratories laboratoire laboratorio laboratorium labor lab",
    "national": "national nationale nazionale nacional narodowe narodni nationaal nationell kansallinen nationales "
                "nationaux",
    "research": "research forschung forschungs recherche recherches ricerca ricerche investigacion investigaciones "
                "investigacao investigacio onderzoek forskning badawczy cercetare kutato vyzkumny tutkimus raziskave",
    "science": "science sciences wissenschaft wissenschaften scienze scienza ciencias ciencia ciencies wetenschappen "
               "vetenskap vitenskap",
    "economics": "economics economy wirtschaft economia economie ekonomi economica economico",
    "agricultural": "agricultural agriculture agraria agrarian landwirtschaft lantbruk rolniczy agronomique",
    "catholic": "catholic katholieke katholische catholique cattolica catolica catolico katolicki",
    "free": "free freie libre libera vrije",
    "applied": "applied angewandte angewandten appliquee appliquees aplicada aplicadas applicata applicate toegepaste",
    "european": "european europaische europaischen europeen europeenne europeo europea europees europese",
    "international": "international internationale internationales internazionale internacional",
    "health": "health gesundheit sante salute salud saude gezondheid halsa zdrowia",
    "energy": "energy energie energia energi",
}.items() for form in forms.split()}

# Compound words carrying a type at their end ("universitatsklinikum", "lantbruksuniversitet").
_COMPOUND_SUFFIXES = (
    ("universitetet", "university"), ("universitatea", "university"), ("universiteit", "university"),
    ("universitaet", "university"), ("universitat", "university"), ("universitet", "university"),
    ("ulikool", "university"), ("yliopisto", "university"), ("egyetem", "university"), ("klinikum", "hospital"),
    ("kliniken", "hospital"), ("klinik", "hospital"), ("sykehus", "hospital"), ("sjukhus", "hospital"),
    ("ziekenhuis", "hospital"), ("sairaala", "hospital"), ("spital", "hospital"), ("bibliothek", "library"),
    ("biblioteket", "library"), ("verlag", "press"), ("stiftung", "foundation"), ("stiftelse", "foundation"),
    ("kozpont", "centre"), ("zentrum", "centre"), ("medizin", "medical"), ("institut", "institute"),
    ("akademie", "academy"),
)
_COMPOUND_PREFIXES = {"universitats": "university", "universitets": "university", "universiteits": "university",
                      "uni": "university", "tehnika": "tech", "technische": "tech", "medizinische": "medical",
                      "wirtschafts": "economics", "lantbruks": "agricultural", "forschungs": "research",
                      "kutato": "research"}
_STOPWORDS = frozenset(_words(
    "of the and for in at on by to with de del della delle dei degli dello dell di da do dos das du des la le les l "
    "d der die den dem und fur zu zur zum im am an van voor het en y e i et och og ja a o al el los las lo vom von "
    "w we z ze u v ve na pro per sul sulla nel nella para por s t bij aan op te"))
_GENERIC = frozenset({"university", "institute", "centre", "foundation", "association", "society", "academy",
                      "research", "science", "national", "ministry"})
_STRONG_TYPES = frozenset({"hospital", "faculty", "library", "press", "museum", "school", "department",
                           "foundation of", "supporters of"})
_SUBUNIT_TYPES = frozenset({"institute", "centre", "department", "faculty", "school", "library", "press",
                            "hospital", "museum", "foundation", "laboratory", "campus", "site", "branch", "office",
                            "unit", "division", "group", "team", "standort"})
_UNIT_TYPES = frozenset({"university", "school", "hospital", "institute", "polytechnic", "faculty", "academy"})
_FOUNDATION_WORDS = frozenset(w for w, c in _SYNONYMS.items() if c == "foundation") | {"fund", "fonds", "fonden"}
_OWNER_CONNECTORS = frozenset(_words("de du des d of della dell di del der van l"))
_COUNTRY_NAMES = frozenset(_words(
    "albania andorra austria belarus belgium bosnia bulgaria croatia cyprus czechia denmark estonia finland france "
    "germany greece hungary iceland ireland italy kosovo latvia liechtenstein lithuania luxembourg malta moldova "
    "monaco montenegro netherlands norway poland portugal romania russia serbia slovakia slovenia spain sweden "
    "switzerland turkey turkiye ukraine israel canada china japan india brazil australia"))

# Legal forms: stripped anywhere (unambiguous) or only at the end of a name (short, ambiguous words).
_LEGAL_ANYWHERE = {tuple(form.split()): label for label, forms in {
    "gmbh": "gmbh|mbh|gesmbh|gesellschaft mit beschrankter haftung|gmbh co kg|gmbh co",
    "ggmbh": "ggmbh|gemeinnutzige gmbh|gemeinnutzige gesellschaft mit beschrankter haftung",
    "ag": "aktiengesellschaft", "ev": "e v|eingetragener verein",
    "sp z o o": "sp z o o|sp z oo|spolka z o o|spolka z ograniczona odpowiedzialnoscia",
    "sa": "spolka akcyjna", "sp k": "spolka komandytowa|sp k", "srl": "srl|s r l|societa a responsabilita limitata",
    "spa": "s p a|societa per azioni", "sarl": "sarl|s a r l|eurl", "ltd": "ltd|limited", "plc": "plc", "llp": "llp",
    "bvba": "bvba|cvba|sprl|scrl", "asbl": "asbl|aisbl|vzw|ivzw", "oyj": "oyj", "onlus": "onlus|scarl|ewiv|kgaa",
}.items() for form in forms.split("|")}
_LEGAL_END = {tuple(form.split()): label for label, forms in {
    "ev": "ev", "ag": "ag", "kg": "kg", "ohg": "ohg", "ug": "ug", "eg": "eg", "se": "se",
    "sas": "sas|s a s|sasu|societe par actions simplifiee",
    "sa": "sa|s a|societe anonyme|sociedad anonima|sociedade anonima", "spa": "spa", "sl": "sl|s l|slu|s l u|sll",
    "sau": "sau", "bv": "bv|b v|besloten vennootschap", "nv": "nv|n v|naamloze vennootschap", "ab": "ab|ab publ",
    "oy": "oy", "as": "as|a s|ans", "asa": "asa", "aps": "aps", "inc": "inc|corp|corporation|llc|co",
    "lda": "lda|ltda", "sro": "sro|s r o",
    "kft": "kft|zrt|nyrt|bt|rt", "doo": "d o o|doo|d d|dd", "ad": "ad|ood|eood", "ehf": "ehf|hf", "sia": "sia",
    "uab": "uab", "ou": "ou", "epe": "epe", "ets": "ets", "coop": "coop|scoop|sccl", "ip": "ip", "fp": "fp",
}.items() for form in forms.split("|")}
_COMPANY_FORMS = frozenset(_words("gmbh ag kg ohg ug se sa sas sarl srl spa sl sau bv nv ab oy oyj as asa aps ltd plc "
                                  "llp inc lda sro kft doo ad ehf sia uab ou bvba")) | {"sp z o o", "sp k"}
_NONPROFIT_FORMS = frozenset(_words("ev ggmbh foundation asbl onlus ets"))
_LEGAL_BY_FIRST: dict[str, list[tuple[str, ...]]] = defaultdict(list)
for _seq in sorted(_LEGAL_ANYWHERE, key=len, reverse=True):
    _LEGAL_BY_FIRST[_seq[0]].append(_seq)
_LEGAL_END_SORTED = sorted(_LEGAL_END, key=len, reverse=True)
_LEGAL_END_LAST = frozenset(seq[-1] for seq in _LEGAL_END)

# Legal boilerplate around the name people use ("The Chancellor, Masters and Scholars of the University of X").
_BOILERPLATE = [tuple(p.split()) for p in (
    "the chancellor masters and scholars of the", "chancellor masters and scholars of the",
    "the university court of the", "university court of the", "the governing council of the", "the trustees of",
    "trustees of", "the provost fellows foundation scholars", "stiftung offentlichen rechts",
    "stiftung des offentlichen rechts", "korperschaft des offentlichen rechts", "anstalt des offentlichen rechts",
    "royal charter", "agencia estatal", "ente pubblico", "m p", "degli studi", "studiorum")]

_DASH = "|"
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_DASH_PART = re.compile(r"\s+-\s*|\s*-\s+|\s+[\u2013\u2014]\s+")
_UMLAUT_PAIRS = re.compile(r"(?<=[a-z])(ae|oe|ue)")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


# ------------------------------------------------------------------------------------------------ names

@dataclass(frozen=True)
class _Name:
    full: str                 # canonical words, sorted
    core: str                 # the same without generic words (university, institute, ...)
    core_words: frozenset[str]
    types: frozenset[str]
    legal: str | None
    seq: tuple[str, ...]      # folded words in order, legal forms removed, "|" where the name had " - "
    part: bool = False        # only a part of a name ("X" of "X - Y"): weaker evidence


def _first_letter(match: re.Match[str]) -> str:
    return match.group()[0]


def _plain_umlauts(word: str) -> str:
    return _UMLAUT_PAIRS.sub(_first_letter, word)


def _split_compound(word: str) -> list[str]:
    if word in _SYNONYMS:
        return [word]
    for suffix, canon in _COMPOUND_SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            prefix = word[: -len(suffix)]
            head = _COMPOUND_PREFIXES.get(prefix) or _SYNONYMS.get(prefix) or _SYNONYMS.get(prefix.rstrip("s"))
            return [head or prefix, canon]
    return [word]


@lru_cache(maxsize=200_000)
def _canonical_word(word: str) -> tuple[str, ...]:
    if word in _STOPWORDS or word == _DASH:
        return ()
    return tuple(_SYNONYMS.get(part, part) for part in _split_compound(_plain_umlauts(word)))


def _canonical(words: Iterable[str]) -> list[str]:
    return [part for word in words for part in _canonical_word(word)]


def _strip_sequence(words: list[str], seq: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        if tuple(words[i:i + len(seq)]) == seq:
            i += len(seq)
        else:
            out.append(words[i])
            i += 1
    return out


def _strip_legal(words: list[str]) -> tuple[list[str], str | None]:
    """Words without legal forms (unambiguous ones anywhere, short ones at the end), and the first form found."""
    legal: str | None = None
    out: list[str] = []
    i = 0
    while i < len(words):
        for seq in _LEGAL_BY_FIRST.get(words[i], ()):
            if tuple(words[i:i + len(seq)]) == seq and len(words) > len(seq):
                legal = legal or _LEGAL_ANYWHERE[seq]
                i += len(seq)
                break
        else:
            out.append(words[i])
            i += 1
    words = out or words
    while len(words) > 1 and words[-1] in _LEGAL_END_LAST:
        for seq in _LEGAL_END_SORTED:
            if len(words) > len(seq) and tuple(words[-len(seq):]) == seq:
                legal = legal or _LEGAL_END[seq]
                words = words[: -len(seq)]
                break
        else:
            break
    return words, legal


def _foundation_of(words: list[str]) -> bool:
    """A foundation *of* a school, university or hospital ("Fondation de l'Ecole polytechnique", "University of
    Latvia Foundation"), an organisation of its own; unlike a foundation that is only the legal form
    ("Fundacion Tecnalia", "Stichting VU")."""
    for k, word in enumerate(words):
        if word not in _FOUNDATION_WORDS:
            continue
        after = words[k + 1:k + 4]
        if after and after[0] in _OWNER_CONNECTORS and _UNIT_TYPES & set(_canonical(after)):
            return True
        if k == len(words) - 1 and k > 0 and _UNIT_TYPES & set(_canonical(words[:k])):
            return True
    return False


def _strip_boilerplate(words: list[str]) -> list[str]:
    """Words without legal boilerplate ("The Chancellor, Masters and Scholars of the") and trailing dashes."""
    for seq in _BOILERPLATE:
        if len(words) > len(seq) and seq[0] in words:
            words = _strip_sequence(words, seq) or words
    while words and words[-1] == _DASH:
        words.pop()
    return words


def _supporters_of(words: list[str]) -> bool:
    """Whether a name opens with one of `SUPPORTER_PREFIXES` ("Friends of X", "Amici di X", "Foundation of X")."""
    return any(len(words) > len(seq) and tuple(words[:len(seq)]) == seq for seq in SUPPORTER_PREFIXES)


def _name_types(canon: list[str], foundation_of: bool, supporters: bool = False) -> set[str]:
    """The kinds of organisation a name states (university, hospital, faculty, "foundation of", ...)."""
    types = {w for w in canon if w in _STRONG_TYPES or w in _GENERIC}
    if supporters:
        types.add("supporters of")
    if "medical" in canon and "centre" in canon:
        types.add("hospital")
    if foundation_of:
        types.add("foundation of")
    return types


@lru_cache(maxsize=200_000)
def _analyse(name: str, part: bool = False) -> _Name:
    marked = _DASH_PART.sub(" xdashx ", name)
    words = [_DASH if w == "xdashx" else w for w in fold(marked).split()]
    supporters = _supporters_of([w for w in words if w not in ("the", "die", "der", "de", "la", "le", "les")][:5])
    words, legal = _strip_legal(words)
    foundation_of = _foundation_of(words)
    if len(words) > 1 and words[0] in _FOUNDATION_WORDS and not foundation_of:
        legal = legal or "foundation"  # "Stiftelsen SINTEF", "Fundacion Tecnalia": the foundation is the legal form
        words = words[1:]
    words = _strip_boilerplate(words)
    canon = _canonical(words) or [w for w in words if w != _DASH] or [fold(name)]
    types = _name_types(canon, foundation_of, supporters)
    core = [w for w in canon if w not in _GENERIC]
    return _Name(full=" ".join(sorted(canon)), core=" ".join(sorted(core)), core_words=frozenset(core),
                 types=frozenset(types), legal=legal, seq=tuple(words), part=part)


def normalise_name(name: str) -> str:
    """The comparable form of a name: folded, legal forms and stopwords removed, words in one language, sorted.

    ``normalise_name("Universität Potsdam") == normalise_name("University of Potsdam")``;
    ``normalise_name("SIEMENS AKTIENGESELLSCHAFT") == normalise_name("Siemens AG")``.
    """
    return _analyse(name).full


def _variants(names: Iterable[str]) -> list[tuple[str, bool]]:
    """(name, is a part) for each name, the name without parenthesised parts, and its part before " - "
    ("VETENSKAPSRADET - SWEDISH RESEARCH COUNCIL" -> "VETENSKAPSRADET", a part)."""
    out: dict[str, bool] = {}
    for name in names:
        plain = " ".join(_PARENS.sub(" ", name).split()) if "(" in name or "[" in name else name
        first = " ".join(_DASH_PART.split(plain)[0].split())
        for candidate, part in ((name, False), (plain, False), (first, first != plain)):
            if candidate and (candidate not in out or out[candidate] and not part):
                out[candidate] = part
    return list(out.items())


def _one_word_names(analysed: Iterable[_Name]) -> frozenset[str]:
    """The record's names of one word (legal forms removed), as acronym forms."""
    out = set()
    for n in analysed:
        seq = [w for w in n.seq if w != _DASH]
        if len(seq) == 1 and len(seq[0]) >= MIN_ACRONYM:
            out.add(_NOT_ALNUM.sub("", seq[0]))
    return frozenset(out)


def _acronym_forms(names: Iterable[str], analysed: Iterable[_Name], acronyms: Iterable[str]) -> frozenset[str]:
    """Declared acronyms, one-word names ("OFFIS e.V.", "VIB vzw") and one-word parenthesised parts ("(DLR)", but
    not a country, as in ROR's "Iquadrat (Spain)"); three characters or more."""
    found = {_NOT_ALNUM.sub("", fold(a)) for a in acronyms}
    for name in names:
        for inner in re.findall(r"\(([^()]*)\)", name) if "(" in name else ():
            if len(inner.split()) == 1 and fold(inner) not in _COUNTRY_NAMES:
                found.add(_NOT_ALNUM.sub("", fold(inner)))
    for n in analysed:
        seq = [w for w in n.seq if w != _DASH]
        if not n.part and len(seq) == 1 and seq[0] not in _SYNONYMS and seq[0] not in _STOPWORDS \
                and seq[0] not in _COUNTRY_NAMES:
            found.add(_NOT_ALNUM.sub("", seq[0]))
    return frozenset(a for a in found if len(a) >= MIN_ACRONYM)


# ------------------------------------------------------------------------------------------------ places, sites, ids

_CITY_NOISE = re.compile(r"\b(cedex|cdx|bp|cs)\b.*$|\d+")
_CITY_SPLIT = re.compile(r"\s*(?:,|/|\(| - )\s*")


@lru_cache(maxsize=100_000)
def _city_keys(city: str, country: str) -> frozenset[str]:
    """Folded forms of a city: whole, before a comma, without CEDEX or digits or a province code, aliases."""
    whole = fold(city)
    keys = {whole, fold(_CITY_SPLIT.split(city)[0]), " ".join(_CITY_NOISE.sub(" ", whole).split())}
    for key in list(keys):
        words = key.split()
        while len(words) > 1 and len(words[-1]) <= 2:
            words.pop()
        keys.update((" ".join(words), _plain_umlauts(key)))
    aliases = CITY_ALIASES.get(country, {})
    keys |= {aliases[k] for k in list(keys) if k in aliases}
    return frozenset(k for k in keys if k)


def _same_city(a: frozenset[str], b: frozenset[str]) -> bool:
    if a & b:
        return True
    return any(len(x) >= 4 and len(y) >= 4 and (f" {x} " in f" {y} " or f" {y} " in f" {x} ") for x in a for y in b)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return EARTH_RADIUS_KM * 2 * math.asin(min(1.0, math.sqrt(h)))


def _host(url: str | None) -> tuple[str, bool] | None:
    """(host without www, whether the URL is a site's home page) or None."""
    if not url:
        return None
    text = re.sub(r"^[a-z]+://", "", url.strip().lower().split(";")[0].strip())
    host, _, path = text.partition("/")
    host = host.split(":")[0].removeprefix("www.")
    return (host, path.strip("/") in ("", "index.html", "index.php", "en", "home")) if "." in host else None


def _normalise_identifier(kind: str, value: str, country: str | None) -> str | None:
    """The comparable form of an identifier, or None for a placeholder ("MISSING", "N/A")."""
    v = str(value).strip()
    if is_placeholder(v):
        return None
    found: str | None
    if kind == "pic":
        found = re.sub(r"\D", "", v)
    elif kind == "ror":
        m = re.search(r"(0[a-z0-9]{6}[0-9]{2})$", v.lower())
        found = m.group(1) if m else None
    elif kind == "isni":
        found = re.sub(r"[^0-9X]", "", v.upper())
        found = found if len(found) == 16 else None
    elif kind == "wikidata":
        m = re.search(r"Q\d+", v.upper())
        found = m.group(0) if m else None
    elif kind == "grid":
        found = v.lower().removeprefix("https://www.grid.ac/institutes/")
    elif kind == "fundref":
        found = re.sub(r"\D", "", v.split("/")[-1])
    elif kind == "vat":
        found = re.sub(r"[^0-9A-Z]", "", v.upper())
        if sum(c.isdigit() for c in found) < 5:
            return None
        if not found[:2].isalpha() and country:
            found = {"UK": "GB"}.get(country, country) + found
    else:  # a national organisation number, a LAU code, ...: letters and digits only
        found = re.sub(r"[^0-9A-Za-z]", "", v).upper()
    return found or None


def _legal_identifiers(rec: EntityRecord, country: str) -> dict[str, str]:
    """The record's identifiers of the exclusive schemes (`EXCLUSIVE_SCHEMES`), normalised."""
    out: dict[str, str] = {}
    for kind, value in rec.identifiers.items():
        kind = kind.lower()
        if kind in NON_EXCLUSIVE_SCHEMES or (EXCLUSIVE_SCHEMES is not None and kind not in EXCLUSIVE_SCHEMES):
            continue
        norm = _normalise_identifier(kind, value, country or None)
        if norm:
            out[kind] = norm
    return out


# ------------------------------------------------------------------------------------------------ comparing

@dataclass
class _Prepared:
    rec: EntityRecord
    country: str
    names: list[_Name]
    acronyms: frozenset[str]
    cities: frozenset[str]
    host: tuple[str, bool] | None
    legal: str | None
    legal_ids: dict[str, str] = field(default_factory=dict)
    one_word_names: frozenset[str] = frozenset()  # names of one word ("OFFIS e.V."): a name, not only a short name


@dataclass
class _Judgement:
    score: float
    reasons: list[str]
    conflict: str | None = None
    same_place: bool = False


def _prepare(rec: EntityRecord) -> _Prepared:
    country = normalise_country(rec.country) or ""
    if rec.kind == "municipality":  # matched by place name only (see _lau_keys)
        return _Prepared(rec, country, [], frozenset(), frozenset(), None, None, _legal_identifiers(rec, country))
    all_names = [rec.name, *rec.names]
    names = [_analyse(v, part) for v, part in _variants(all_names)]
    return _Prepared(rec=rec, country=country, names=names, acronyms=_acronym_forms(all_names, names, rec.acronyms),
                     cities=_city_keys(rec.city, country) if rec.city else frozenset(), host=_host(rec.url),
                     legal=_analyse(rec.name).legal, legal_ids=_legal_identifiers(rec, country),
                     one_word_names=_one_word_names(n for n in names if not n.part))


def _name_score(a: _Name, b: _Name) -> float:
    """Likeness of two names, 0-100: 40 % the whole names, 60 % their distinctive words (word order ignored)."""
    full = fuzz.token_sort_ratio(a.full, b.full)
    score = WHOLE_NAME_WEIGHT * full + CORE_NAME_WEIGHT * fuzz.token_sort_ratio(a.core, b.core) \
        if a.core and b.core else full
    return score - PART_PENALTY if a.part or b.part else score


def _conflict(a: _Name, b: _Name) -> str | None:
    """Why two names cannot be one organisation however alike (a hospital and a university, ...)."""
    strong = (a.types ^ b.types) & _STRONG_TYPES
    if strong:
        return f"one is a {sorted(strong)[0]}, the other is not"
    for x, y in ((a, b), (b, a)):
        if {"foundation", "university"} <= x.types and "university" in y.types and "foundation" not in y.types:
            return "a university's foundation vs the university"
    return None


def _contains(short: _Name, long: _Name, short_rec: _Prepared, long_rec: _Prepared) -> bool:
    """Whether `long` is `short` followed by a qualifier that leaves it the same organisation ("Klinikum rechts
    der Isar der TU Munchen", "Julius Kuhn-Institut Bundesforschungsinstitut fur Kulturpflanzen"); not for a site
    elsewhere ("DZNE Dresden"), a part ("X - Institute of Y") or a sub-unit ("X Department of Y")."""
    head = [w for w in short.seq if w != _DASH]
    if len(head) < 2 or len(short.core_words) < 2 or short.part or long.part or len(long.seq) <= len(head):
        return False
    if [_plain_umlauts(w) for w in long.seq[:len(head)]] != [_plain_umlauts(w) for w in head]:
        return False
    rest = list(long.seq[len(head):])
    if rest[0] == _DASH:
        return False
    rest_words = set(_canonical(rest))
    if not rest_words or (rest_words & _SUBUNIT_TYPES) - short.types:
        return False
    if rest_words <= {w for c in long_rec.cities for w in c.split()}:  # only a place name: a site of its own?
        return bool(short_rec.cities) and _same_city(short_rec.cities, long_rec.cities)
    return len(rest_words) >= 2


def _best_names(a: _Prepared, b: _Prepared) -> tuple[float, bool, str | None, float]:
    """The best score of two names without a conflict (-1 if every pair conflicts), whether that score is one
    name holding the other, and the conflict of the best conflicting pair with its score."""
    best, conflict, conflict_score, contained = -1.0, None, -1.0, False
    for x in a.names:
        for y in b.names:
            score = _name_score(x, y)
            why = _conflict(x, y)
            if why:
                if score > conflict_score:
                    conflict, conflict_score = why, score
                continue
            if score < CONTAINED and (_contains(x, y, a, b) or _contains(y, x, b, a)):
                score, contained = CONTAINED, True
            best = max(best, score)
    return best, contained and best == CONTAINED, conflict, conflict_score


def _place_evidence(a: _Prepared, b: _Prepared, names: float) -> tuple[float, str | None, bool]:
    """(score change, reason, same place) from the records' cities and coordinates; `names` is the name score."""
    ra, rb = a.rec, b.rec
    near: float | None = None
    if ra.lat is not None and ra.lon is not None and rb.lat is not None and rb.lon is not None:
        near = _km(ra.lat, ra.lon, rb.lat, rb.lon)
    same_city = bool(a.cities and b.cities and _same_city(a.cities, b.cities))
    if same_city or (near is not None and near <= SAME_PLACE_KM):
        return SAME_PLACE_BONUS, "same city" if same_city else f"{near:.0f} km apart", True
    if near is not None and near <= NEAR_KM:
        return NEAR_BONUS, f"{near:.0f} km apart", False
    if near is not None and near > FAR_KM:
        return -(FAR_PENALTY if names < NEARLY_SAME_NAMES else FAR_PENALTY_SAME_NAMES), f"{near:.0f} km apart", False
    if near is None and a.cities and b.cities:
        return -DIFFERENT_CITY_PENALTY, "different cities", False
    return 0.0, None, False


def _acronym_evidence(shared: frozenset[str], score: float, names: float, same_place: bool,
                      same_site: bool) -> tuple[float, str]:
    """The score with a shared acronym, and the reason: a floor with the same place or website, else a bonus."""
    acronym = sorted(shared, key=lambda x: (-len(x), x))[0].upper()
    if (same_place and same_site) or ((same_place or same_site) and names >= ACRONYM_MIN_NAMES):
        return max(score, ACRONYM_AND_PLACE), f"same acronym {acronym} and same {'city' if same_place else 'website'}"
    return score + SAME_ACRONYM_BONUS, f"same acronym {acronym}"


def _legal_form_evidence(a: str, b: str, score: float) -> float:
    """The score when two stated legal forms differ: two legal persons (a parent ASA and its subsidiary AS, a
    GmbH and a KG, an SA and an SAS), at most uncertain; a company and a non-profit even less."""
    if {a in _COMPANY_FORMS, b in _COMPANY_FORMS} == {True, False} and {a, b} & _NONPROFIT_FORMS:
        return min(score, COMPANY_VS_NONPROFIT)  # a company and a foundation or association
    if a in _COMPANY_FORMS and b in _COMPANY_FORMS:
        return min(score - LEGAL_FORM_PENALTY, DIFFERENT_LEGAL_FORMS)  # two companies: parent and subsidiary?
    return score - LEGAL_FORM_PENALTY  # "ETS" or "e.V." beside a foundation: a status more than another person


def _compare(a: _Prepared, b: _Prepared) -> _Judgement:
    """The score and reasons for two records of one country: names first, then place, website, acronym and
    legal form as witnesses for or against."""
    best, contained, conflict, conflict_score = _best_names(a, b)
    if best < 0:
        return _Judgement(conflict_score, [f"names {conflict_score:.0f}", conflict or "conflict"], conflict)
    reasons = [f"names {best:.0f}" + (" (one name holds the other)" if contained else "")]
    change, place_reason, same_place = _place_evidence(a, b, best)
    score = best + change
    if place_reason:
        reasons.append(place_reason)
    site = a.host if a.host is not None and a.host == b.host and a.host[1] else None  # the same home page
    same_site = site is not None
    if site is not None:
        score += SAME_WEBSITE_BONUS
        reasons.append(f"same website {site[0]}")
    acronyms = _acronyms_that_count(a, b)
    if acronyms:
        score, acronym_reason = _acronym_evidence(acronyms, score, best, same_place, same_site)
        reasons.append(acronym_reason)
    if contained and not (same_place and (same_site or acronyms)):
        score = min(score, CONTAINED_UNWITNESSED)  # a qualifier or an owner? "X der TU Munchen", "Dimos X Enterprise"
        reasons.append("one name holds the other, but without the same place and a second witness")
    if a.legal and b.legal and a.legal != b.legal:
        score = _legal_form_evidence(a.legal, b.legal, score)
        reasons.append(f"legal forms differ ({a.legal} vs {b.legal})")
    return _Judgement(min(score, MAX_SCORE), reasons, None, same_place)


def _acronyms_that_count(a: _Prepared, b: _Prepared) -> frozenset[str]:
    """The shared acronyms that count as evidence: a short name never decides, so only beside a shared distinctive
    name word, or when the acronym is one record's whole name ("OFFIS e.V." and ROR's OFFIS)."""
    shared = a.acronyms & b.acronyms
    if not shared or _shares_core_word(a, b) or shared & (a.one_word_names | b.one_word_names):
        return shared
    return frozenset()


def _shares_core_word(a: _Prepared, b: _Prepared) -> bool:
    words_a = {w for n in a.names for w in n.core_words if len(w) >= DISTINCT_WORD}
    return any(w in words_a for n in b.names for w in n.core_words)


def _blocking_keys(p: _Prepared) -> set[str]:
    """What a record can meet others by: its distinctive name words and its acronyms (marked "#")."""
    return {w for n in p.names for w in n.core_words if len(w) >= MIN_BLOCKING_WORD} | {f"#{a}" for a in p.acronyms}


def _country_pairs(prepared: list[_Prepared], members: list[int],
                   seen: set[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """New pairs among the records `members` of one country sharing a rare key (`seen` is updated)."""
    postings: dict[str, list[int]] = defaultdict(list)
    keys_of: dict[int, set[str]] = {}
    for i in members:
        keys_of[i] = _blocking_keys(prepared[i])
        for w in keys_of[i]:
            postings[w].append(i)
    for i in members:
        ranked = sorted(keys_of[i], key=lambda w: (len(postings[w]), w))
        for w in [w for w in ranked if len(postings[w]) <= MAX_POSTING] or ranked[:RAREST_WORDS]:
            for j in postings[w]:
                pair = (i, j) if i < j else (j, i)
                if i == j or pair in seen:
                    continue
                seen.add(pair)
                yield pair


def _candidate_pairs(prepared: list[_Prepared]) -> Iterator[tuple[int, int]]:
    """Pairs of organisation records of one country sharing a rare name word or acronym (blocking); never two
    records of one deduplicated source."""
    by_country: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(prepared):
        if p.rec.kind != "municipality":
            by_country[p.country].append(i)
    seen: set[tuple[int, int]] = set()
    for country in sorted(by_country):
        for pair in _country_pairs(prepared, by_country[country], seen):
            a, b = prepared[pair[0]].rec.source, prepared[pair[1]].rec.source
            if not (a == b and a in DEDUPLICATED_SOURCES):
                yield pair


# ------------------------------------------------------------------------------------------------ municipalities

_MUNICIPAL_PREFIXES = sorted((tuple(p.split()) for p in (
    "comune di", "comune de", "citta di", "excmo ayuntamiento de", "ayuntamiento de", "ajuntament de",
    "ajuntament d", "concello de", "concello da", "municipio de", "camara municipal de", "camara municipal do",
    "camara municipal da", "municipality of", "city of", "town of", "ville de", "ville d", "commune de", "commune d",
    "mairie de", "mairie d", "gemeente", "stad", "stadt", "landeshauptstadt", "freie und hansestadt",
    "freie hansestadt", "hansestadt", "stadtgemeinde", "marktgemeinde", "gemeinde", "magistrat der stadt", "dimos",
    "statutarne mesto", "statutarni mesto", "hlavni mesto", "mesto", "miasto", "gmina miejska", "gmina",
    "urzad miasta", "urzad miejski w", "primaria municipiului", "primaria orasului", "primaria comunei", "primaria",
    "municipiul", "orasul", "oras", "comuna", "mestna obcina", "obcina", "grad", "kommune", "opstina")),
    key=len, reverse=True)
_MUNICIPAL_SUFFIXES = sorted((tuple(p.split()) for p in (
    "kommune", "kommun", "kaupunki", "kunta", "city council", "borough council", "district council",
    "metropolitan borough council", "council", "municipality", "belediyesi", "varos onkormanyzata",
    "kozseg onkormanyzata", "onkormanyzata", "gemeente", "obcina", "savivaldybe", "pilsetas dome", "linn", "vald",
    "stad")), key=len, reverse=True)
_NOT_MUNICIPAL = frozenset(_words("metropolitana buyuksehir megyei county fylkeskommune region regional provincia "
                                  "province provincie"))
_LAU_PREFIXES = [tuple(p.split()) for p in ("psevdodimotiki koinotita", "municipal commune of", "municipiul",
                                            "orasul", "oras", "comuna", "grad", "mesto", "obec")]
_LAU_PARTS = ("dimotiki koinotita", "topiki koinotita", "local commune of", "municipal commune of")


def _municipal_place(name: str) -> str | None:
    """The place a government is named after ("COMUNE DI TORINO" -> torino), or None if it is not a
    municipality's government (a county, region or metropolitan city is not)."""
    words = fold(_PARENS.sub(" ", name)).split()
    if not words or _NOT_MUNICIPAL & set(words):
        return None
    for seq in _MUNICIPAL_PREFIXES:
        if len(words) > len(seq) and tuple(words[: len(seq)]) == seq:
            return " ".join(words[len(seq):])
    for seq in _MUNICIPAL_SUFFIXES:
        if len(words) > len(seq) and tuple(words[-len(seq):]) == seq:
            return " ".join(words[: -len(seq)])
    return None


def _lau_keys(rec: EntityRecord) -> set[str]:
    """Folded forms a municipality is known under; none for a Greek community that is only part of one (only a
    pseudo-municipal community covers a whole municipality)."""
    keys: set[str] = set()
    for name in (rec.name, *rec.names):
        folded = fold(name)
        if folded.startswith(_LAU_PARTS) and "psevdo" not in folded:
            return set()
        for part in [name, *_CITY_SPLIT.split(name)]:
            words = fold(part).replace(" psevdo", "").split()
            for seq in _LAU_PREFIXES:
                if len(words) > len(seq) and tuple(words[: len(seq)]) == seq:
                    words = words[len(seq):]
            if words:
                keys.add(" ".join(words))
    return keys


def _place_keys(place: str, rec: EntityRecord, country: str) -> list[str]:
    """The place and its plain forms (Nordic genitive -s, Finnish -n), and the record's city when it names the
    same place ("NEWCASTLE CITY COUNCIL" in Newcastle upon Tyne)."""
    keys = [place]
    if country in ("DK", "SE", "NO", "IS") and place.endswith("s"):
        keys.append(place[:-1])
    if country == "FI" and place.endswith("n"):
        keys.append(place[:-1])
    if rec.city:
        for city in sorted(_city_keys(rec.city, country), key=len, reverse=True):
            if city.startswith(place) or place.startswith(city) or fuzz.ratio(place, city) >= SAME_PLACE_NAME:
                keys.append(city)
    return list(dict.fromkeys(keys))


# ------------------------------------------------------------------------------------------------ clusters

class _Clusters:
    """Union-find over record indices that refuses a join a user forbade, one a deduplicated source rules out,
    and one that would chain two records of one source that do not match each other."""

    def __init__(self, records: list[_Prepared], compatible: Callable[[int, int], bool]) -> None:
        self.parent = list(range(len(records)))
        self.members: list[list[int]] = [[i] for i in range(len(records))]
        self.sources = [r.rec.source for r in records]
        self.dedup: list[set[str]] = [{r.rec.source} & DEDUPLICATED_SOURCES for r in records]
        self.forbidden: list[tuple[int, int]] = []
        self.compatible = compatible
        self.anchored: set[int] = set()  # records placed by an identifier or an override: not questioned
        # per cluster: scheme -> the values its records hold (different values of one scheme: two legal entities)
        self.legal_ids: list[dict[str, set[str]]] = [{k: {v} for k, v in r.legal_ids.items()} for r in records]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def blocked(self, i: int, j: int) -> str | None:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return None
        if any({self.find(x), self.find(y)} == {ri, rj} for x, y in self.forbidden):
            return "forbidden by an override"
        both = self.dedup[ri] & self.dedup[rj]
        if both:
            return f"would join two {sorted(both)[0].upper()} records"
        ids_i, ids_j = self.legal_ids[ri], self.legal_ids[rj]
        for scheme in sorted(ids_i.keys() & ids_j.keys()):
            if not ids_i[scheme] & ids_j[scheme]:
                return (f"different {scheme.upper()} ({min(ids_i[scheme])} vs {min(ids_j[scheme])}): "
                        f"{LEGAL_ENTITIES}")
        for x in self.members[ri]:
            for y in self.members[rj]:
                if {x, y} != {i, j} and self.sources[x] == self.sources[y] and not {x, y} & self.anchored \
                        and not self.compatible(x, y):
                    return f"would chain two {self.sources[x].upper()} records that do not match each other"
        return None

    def union(self, i: int, j: int, *, force: bool = False, anchor: bool = False) -> str | None:
        """Join the clusters of i and j; the reason it was refused, or None. `anchor`: the link is certain."""
        ri, rj = self.find(i), self.find(j)
        why = None if force or ri == rj else self.blocked(i, j)
        if why:
            return why
        if anchor or force:
            self.anchored.update((i, j))
        if ri == rj:
            return None
        if len(self.members[ri]) < len(self.members[rj]):
            ri, rj = rj, ri
        self.parent[rj] = ri
        self.members[ri].extend(self.members[rj])
        self.members[rj] = []
        self.dedup[ri] |= self.dedup[rj]
        for scheme, values in self.legal_ids[rj].items():
            self.legal_ids[ri].setdefault(scheme, set()).update(values)
        self.legal_ids[rj] = {}
        return None


def _canonical_key(rec: EntityRecord) -> tuple[int, int, str]:
    """A cluster's canonical id: a ROR id first, then the smallest PIC, then the smallest id."""
    if rec.source == "ror" or rec.id.startswith("ror:"):
        return (0, 0, rec.id)
    pic = _normalise_identifier("pic", rec.identifiers.get("pic", ""), None)
    return (1, int(pic), rec.id) if pic else (2, 0, rec.id)


# ------------------------------------------------------------------------------------------------ overrides

_MERGE_WORDS = frozenset(_words("merge same 1 yes true y"))
_FORBID_WORDS = frozenset(_words("forbid split different 0 no false n"))


def load_overrides(path: Path) -> Overrides:
    """A user's override file: CSV (left_id, right_id, decision: merge or forbid; other columns ignored, empty
    decisions skipped, so a filled-in review file is one) or TOML (``merge`` and ``forbid``: lists of id groups)."""
    path = Path(path)
    label = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read the override file ({exc})", file=label) from exc
    if path.suffix.lower() == ".toml":
        return _overrides_from_toml(text, label)
    return _overrides_from_csv(text, label)


def _overrides_from_toml(text: str, label: str) -> Overrides:
    """``merge = [[id, id, ...], ...]`` and ``forbid = [...]``: each group's first id with each of the others."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(f"malformed TOML ({exc})", file=label) from exc
    unknown = sorted(set(doc) - {"merge", "forbid"})
    if unknown:
        raise BadInputError(f"unknown key(s) {', '.join(unknown)}; expected 'merge' and 'forbid'", file=label,
                            field=unknown[0])
    out = Overrides()
    for key, target in (("merge", out.merge), ("forbid", out.forbid)):
        groups = doc.get(key, [])
        if not isinstance(groups, list):
            raise BadInputError(f"'{key}' must be a list of id lists", file=label, field=key)
        for n, group in enumerate(groups, 1):
            if not isinstance(group, list) or len(group) < 2 or not all(isinstance(g, str) for g in group):
                raise BadInputError(f"entry {n} of '{key}' must list two or more ids", file=label, field=key)
            target.extend((group[0], other) for other in group[1:])
    return out


def _overrides_from_csv(text: str, label: str) -> Overrides:
    """Rows of left_id, right_id, decision (merge words or forbid words; an empty decision is skipped)."""
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    for column in ("left_id", "right_id", "decision"):
        if column not in header:
            raise BadInputError(f"missing column {column!r} (expected left_id, right_id, decision)", file=label,
                                line=1, field=column)
    out = Overrides()
    for row in reader:
        decision = (row.get("decision") or "").strip().lower()
        left, right = (row.get("left_id") or "").strip(), (row.get("right_id") or "").strip()
        if not decision:
            continue
        if not left or not right:
            raise BadInputError("an id is empty", file=label, line=reader.line_num,
                                field="left_id" if not left else "right_id")
        if decision in _MERGE_WORDS:
            out.merge.append((left, right))
        elif decision in _FORBID_WORDS:
            out.forbid.append((left, right))
        else:
            raise BadInputError(f"decision must be 'merge' or 'forbid', not {decision!r}", file=label,
                                line=reader.line_num, field="decision")
    return out


def write_review(pairs: Iterable[MatchPair], records: Mapping[str, EntityRecord], path: Path) -> None:
    """Uncertain pairs as CSV, with an empty decision column to fill in and read back as overrides."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["left_id", "left_name", "left_city", "right_id", "right_name", "right_city", "score",
                         "reasons", "decision"])
        for p in pairs:
            a, b = records[p.left], records[p.right]
            writer.writerow([p.left, a.name, a.city or "", p.right, b.name, b.city or "", f"{p.score:.1f}",
                             "; ".join(p.reasons), ""])


# ------------------------------------------------------------------------------------------------ resolving

class _Resolver:
    """One run of `resolve_entities`: the prepared records, the clusters and the judged pairs."""

    def __init__(self, records: Iterable[EntityRecord]) -> None:
        self.recs = sorted(records, key=lambda r: r.id)
        self.ids = [r.id for r in self.recs]
        self.index = {r.id: i for i, r in enumerate(self.recs)}
        if len(self.index) != len(self.ids):
            dup = next(i for i in self.ids if self.ids.count(i) > 1)
            raise BadInputError(f"record id {dup!r} appears twice", field="id")
        self.prepared = [_prepare(r) for r in self.recs]
        self._compatible: dict[tuple[int, int], bool] = {}
        self.clusters = _Clusters(self.prepared, self.compatible)
        self.pairs: dict[tuple[int, int], MatchPair] = {}
        self.warnings: list[str] = []

    def compatible(self, x: int, y: int) -> bool:
        """Whether two records could be one organisation on their own (no conflict, score >= REVIEW)."""
        key = (x, y) if x < y else (y, x)
        if key not in self._compatible:
            j = _compare(self.prepared[key[0]], self.prepared[key[1]])
            self._compatible[key] = j.conflict is None and j.score >= REVIEW
        return self._compatible[key]

    def note(self, i: int, j: int, score: float, decision: str, reasons: list[str]) -> None:
        """Record a judged pair; an override's judgement stays, "same" beats the rest, then the higher score."""
        key = (i, j) if i < j else (j, i)
        old = self.pairs.get(key)
        if old is not None and (old.reasons[0].startswith("override")
                                or (old.decision == "same" and decision != "same")
                                or (old.decision == decision and old.score >= score)):
            return
        self.pairs[key] = MatchPair(self.ids[key[0]], self.ids[key[1]], round(score, 1), decision, tuple(reasons))

    def join(self, i: int, j: int, score: float, reasons: list[str], *, anchor: bool = False) -> None:
        refused = self.clusters.union(i, j, anchor=anchor)
        if refused is None:
            self.note(i, j, score, "same", reasons)
        else:
            self.note(i, j, score, "different" if "override" in refused or LEGAL_ENTITIES in refused else "uncertain",
                      [*reasons, f"not merged: {refused}"])

    def apply_overrides(self, overrides: Overrides) -> None:
        """Forced merges now, unconditionally; forbidden pairs as a constraint on every later join."""
        known = [(a, b) for a, b in overrides.forbid if a in self.index and b in self.index]
        self.clusters.forbidden = [(self.index[a], self.index[b]) for a, b in known]
        for left, right in overrides.merge:
            if left in self.index and right in self.index:
                self.clusters.union(self.index[left], self.index[right], force=True)
                self.note(self.index[left], self.index[right], MAX_SCORE, "same", ["override: merge"])
        for left, right in [*overrides.merge, *overrides.forbid]:
            if left not in self.index or right not in self.index:
                self.warnings.append(f"override {left} / {right}: unknown record id, ignored")
        for x, y in self.clusters.forbidden:
            if self.clusters.find(x) == self.clusters.find(y):
                raise BadInputError(f"the overrides both merge and forbid {self.ids[x]} and {self.ids[y]} "
                                    "(directly or through other forced merges)")
            self.note(x, y, 0.0, "different", ["override: forbid"])

    def merge_identifiers(self) -> None:
        """Same PIC, ROR id, ISNI, Wikidata, GRID or FundRef; same VAT number with support from name or place."""
        holders: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, p in enumerate(self.prepared):
            for kind, value in p.rec.identifiers.items():
                kind = kind.lower()
                if kind in IDENTIFIER_KEYS or kind == "vat":
                    norm = _normalise_identifier(kind, value, p.country)
                    if norm:
                        holders[(kind, norm)].append(i)
            if p.rec.source == "ror" and "ror" not in p.rec.identifiers:
                holders[("ror", p.rec.id.removeprefix("ror:"))].append(i)
        for (kind, value), members in sorted(holders.items()):
            if kind != "vat":
                for j in members[1:]:
                    self.join(members[0], j, MAX_SCORE, [f"same {kind.upper()} {value}"], anchor=True)
                continue
            for pos, x in enumerate(members):
                for y in members[pos + 1:]:
                    a, b = self.prepared[x], self.prepared[y]
                    judged = _compare(a, b)
                    supported = _shares_core_word(a, b) and (judged.same_place or judged.score >= VAT_NAMES_SUPPORT)
                    if judged.conflict is None and supported:
                        self.join(x, y, max(judged.score, ACCEPT), [f"same VAT {value}", *judged.reasons])
                    else:
                        self.note(x, y, min(judged.score, REVIEW), "uncertain",
                                  [f"same VAT {value}, but names or places differ (a group's or a state's number?)",
                                   *judged.reasons])

    def merge_municipalities(self) -> None:
        """A municipality's government and the municipality (LAU) it is named after, in one country."""
        lau_index: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, p in enumerate(self.prepared):
            if p.rec.kind == "municipality":
                for key in _lau_keys(p.rec):
                    lau_index[(p.country, key)].append(i)
        if not lau_index:
            return
        for i, p in enumerate(self.prepared):
            if p.rec.kind == "municipality":
                continue
            for name in (p.rec.name, *p.rec.names):
                place = _municipal_place(name)
                found = next((sorted(set(lau_index[(p.country, key)])) for key in _place_keys(place, p.rec, p.country)
                              if (p.country, key) in lau_index), []) if place else []
                if not found:
                    continue
                found.sort(key=lambda k: (-(self.prepared[k].rec.population or 0), k))
                if len(found) > 1 and (self.prepared[found[0]].rec.population or 0) \
                        < DOMINANT_POPULATION * max(self.prepared[found[1]].rec.population or 0, 1):
                    for k in found:
                        self.note(i, k, REVIEW, "uncertain",
                                  [f"government of {place!r}; {len(found)} municipalities of that name"])
                else:
                    self.join(i, found[0], MAX_SCORE, [f"government named after the municipality {place!r}"])
                break

    def merge_names(self) -> None:
        """Candidate pairs by rare name words, judged; the "same" ones joined, best first."""
        accepted: list[tuple[float, int, int, list[str]]] = []
        for i, j in _candidate_pairs(self.prepared):
            judgement = _compare(self.prepared[i], self.prepared[j])
            score, reasons = judgement.score, judgement.reasons
            if judgement.conflict is None and score >= ACCEPT:
                accepted.append((score, i, j, reasons))
            elif judgement.conflict is None and score >= REVIEW:
                self.note(i, j, score, "uncertain", reasons)
            elif score >= KEEP:
                self.note(i, j, score, "different", reasons)
        for score, i, j, reasons in sorted(accepted, key=lambda t: (-t[0], self.ids[t[1]], self.ids[t[2]])):
            self.join(i, j, score, reasons)

    def resolution(self) -> Resolution:
        canonical: dict[str, str] = {}
        clusters: dict[str, list[str]] = {}
        for root, members in enumerate(self.clusters.members):
            if members and self.clusters.find(root) == root:
                chosen = min((self.recs[k] for k in members), key=_canonical_key).id
                clusters[chosen] = sorted(self.ids[k] for k in members)
                canonical.update((self.ids[k], chosen) for k in members)
        pairs = sorted(self.pairs.values(), key=lambda p: (p.left, p.right))
        uncertain = [p for p in pairs if p.decision == "uncertain" and canonical[p.left] != canonical[p.right]]
        return Resolution(canonical=canonical, clusters=clusters, pairs=pairs, uncertain=uncertain,
                          warnings=self.warnings)


def resolve_entities(records: Iterable[EntityRecord], *, overrides: Overrides | Path | None = None,
                     review_path: Path | None = None) -> Resolution:
    """Cluster the records that are one real organisation (the module docstring has the order of evidence).

    `overrides` (an `Overrides` or the path of an override file) always win; `review_path`, when given,
    receives the uncertain pairs as CSV (see `write_review`).
    """
    resolver = _Resolver(records)
    if overrides is not None:
        resolver.apply_overrides(overrides if isinstance(overrides, Overrides) else load_overrides(Path(overrides)))
    resolver.merge_identifiers()
    resolver.merge_municipalities()
    resolver.merge_names()
    result = resolver.resolution()
    if review_path is not None:
        write_review(result.uncertain, {r.id: r for r in resolver.recs}, review_path)
    return result
