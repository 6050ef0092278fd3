"""Whole dockets for the replica: every document of a General Court, generated around the real ones.

``generate(194, size=7000)`` returns the documents of the 194th General Court: a few real ones
(the campaign's bills and the documents the watches and the successor search are tested on, see
below) and enough
generated ones to make ``size``. It is deterministic (the same session, size and seed give the
same docket), needs no network and no file, and builds 7,000 documents in a few tenths of a
second, so nothing large is kept in git. ``add_docket`` and ``with_dockets`` put the result in a
replica.

What is real and what is not (sources.md 4.1-4.3):

* REAL: 192nd H.135 (docket HD3228; David M. Rogers, petitioner Orlando Ramos) and S.47 (SD2134;
  Cynthia Stone Creem), "An Act to regulate face surveillance", with their histories, and what became
  of them: H.5091 and S.3063, all four taken from ``Replica.bundled()``'s ``data/bills.json`` (its
  ``_note`` says which of their fields are assumed); S.3084 "Bill to regulate face surveillance"
  (section 63 of H.5076, split out by Senate Ways and Means on 2022-07-30, "Read, rules suspended,
  read second and ordered to a third reading" that day), re-filed by nobody. 193rd H.1728 (docket HD2304; Orlando Ramos and David M. Rogers) and S.927 (SD750;
  Cynthia Stone Creem), both "An Act to implement the recommendations of the special commission
  on facial recognition technology", referred to The Judiciary, and reported into the new draft
  H.4359 on 2024-02-12; 194th H.1946 (Ramos) and S.1053 (SD503, filed 2025-01-13; Creem with
  Comerford, Rausch, Barrett and Eldridge), same title and committee; S.1053's pinslip ending
  "The Judiciary. [SIMILAR MATTER FILED IN PREVIOUS SESSION SEE SENATE, NO. 927 OF 2023-2024.]";
  the member codes O_R1, DMR1, CSC0, JBE0, JMC0, RLR0 and MJB0.
* INFERRED: the hearings (2023-11-21 for the 193rd's pair, 2025-07-15 for the 194th's).
* ASSUMED: every other pinslip (in the site's style), Rogers as H.1728's JointSponsor, the
  "SIMILAR MATTER" notes of H.1728, S.927 and H.1946, H.4359's title and sponsor, the other
  history rows and their dates, the filing dates but SD503's; S.3084's sponsor code S30 (Senate
  Ways and Means) and pinslip; the Similar lists (``ReplicaBill.similar``, the API's ``/Similar``):
  H.1728 names S.927, 192/H.135 and 194/H.1946, S.927 names H.1728, 192/S.47 and 194/S.1053, H.1946
  names S.1053 and 193/H.1728, and S.1053's Similar answers 400 (as the API does for some real bills;
  which ones, and which way it looks across General Courts, is unverified). INVENTED: H.1946's
  docket number.
* WRITTEN FOR THE REPLICA: every DocumentText, the campaign's included (a plausible text on
  face surveillance, not the real bill), and the three documents the watches are tested on,
  all in the 194th: H.612, a schools facial-recognition ban by another member; S.1587, which
  shares the campaign's old title "An Act to regulate face surveillance" but not its sponsors
  (and would weaken its proposal); H.3120, whose pinslip alone says "facial recognition". And the
  two near-misses of H.135's successor search, in the 193rd: H.495 (HD1421), another member's
  schools ban with H.612's title, and S.1410 (SD1877), the old title with other sponsors and
  S.1587's weaker police text; neither pinslip has a "SIMILAR MATTER" note. Their numbers, dockets
  and sponsors are fictional too. S.3084's text and the 192nd's filing dates are written for the
  replica as well. The texts of H.135 (S.47 carries the same), H.5091, S.3084 (only on its HTML page:
  its DocumentText is empty) and H.1946 are files in ``data/texts/`` (``tracker.replica.texts``, whose
  manifest says which sections H.5091 changed); H.1946's new draft H.4420 comes only with
  ``tracker.replica.drafts.report_new_draft`` (its number is kept free: :data:`RESERVED`).
* FICTIONAL: every other document, and every member whose code starts with ``Z`` (about 160
  Representatives and 40 Senators a session, named from common first names and surnames; not
  real people). Real members sponsor only the real documents. Committee names are the joint
  committees' real names; their codes are real for J19 (The Judiciary) and J33 only.

The directory (``directory(session)``; ``add_docket`` gives it to a replica that has no committees
or members of that General Court yet, so the bundled 192nd's ``data/directory.json`` stays as it is):

* REAL: the seven real members (only in the 192nd to the 194th), all Democrats; the districts of
  Rogers (Twenty-Fourth Middlesex), Ramos (Ninth Hampden) and Creem (First Middlesex and Norfolk),
  as in the 192nd's directory; the joint committees' full names; the short names of J19 ("Judiciary
  (J)") and J33; the code S30 (Senate Ways and Means).
* FROM GENERAL KNOWLEDGE, NOT VERIFIED against the API: the districts of Eldridge (Middlesex and
  Worcester), Barrett (Third Middlesex), Comerford (Hampshire, Franklin and Worcester) and Rausch
  (Norfolk, Worcester and Middlesex, the least sure: the name after the 2021 redistricting).
* ASSUMED: every committee code but J19, J33 and S30 (H33 as in the 192nd's directory); the other
  short names ("Education (J)"); the committees' sizes (11 Representatives and 6 Senators on a
  joint committee); that the real members sit on no committee and chair none.
* FICTIONAL: every chair, in the 193rd and the 194th too, J19's included (the real chairs of the
  Judiciary in those sessions are not known here for sure, so the replica does not name real people
  for them); every membership; the fictional members' districts (real district names in the
  ordinal-word form, drawn at random; the House has 162 members, so two Middlesex districts, up to
  Thirty-Ninth, do not exist) and parties (about 15% Republican); every email (first.last@example.org),
  phone number (617-555-01NN, shared by several members), room ("Replica NNN") and description.

No generated document says "facial", "face", "recognition" or "surveillance": a watch on
those words finds exactly the documents above.

The 192nd (``generate(192, size)``, not in ``with_dockets()``'s default) holds H.135, S.47, H.5091
and S.3063 as ``Replica.bundled()`` does, so ``with_dockets({192: 300})`` (``add_docket`` on a replica
that already holds them) keeps one of each, as they were (history, pinslip, Similar list, place in
the list), and only fills in what they lack: their texts (see ``add_docket``). Generated "SIMILAR MATTER" notes never name the
campaign's bills, so a successor search finds only the real lineage.

Shape of a generated docket of ``size`` documents (the real ones included): about 62% House and
38% Senate documents; numbered H.1.. and S.1.. in committee order (the real numbers kept out of
the way); 2% docket-only (``BillNumber`` null, the latest docket numbers, filed after the
deadline "subject to Joint Rule 12"); 3% resolves, 2% orders (study orders, committee
sponsors); 5% with a JointSponsor of the other branch; 1% public requests (sponsor Type 3), 0.5%
special requests (Type 4); 1% with an emergency preamble; and, with ``quirks`` (the default),
the list's bad input: 1.6% of rows with ``Details: null``, one row in a thousand with a null
``PrimarySponsor``, one in five hundred with odd whitespace in its title, one in five hundred with
an HTML entity (at least one of each from 50 generated documents on).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cached_property

from tracker.replica.model import Replica, ReplicaBill, ReplicaCommittee, ReplicaMember
from tracker.replica.texts import text_of, texts_for

DEFAULT_SIZES = {193: 6500, 194: 7000}
DEFAULT_SEED = 14
TITLE = "An Act to implement the recommendations of the special commission on facial recognition technology"
OLD_TITLE = "An Act to regulate face surveillance"
SCHOOLS_TITLE = "An Act prohibiting the use of facial recognition technology in schools"
# Words no generated document may contain (see the module's docstring).
RESERVED_WORDS = ("facial", "face", "recognition", "surveillance")


def first_year(session: int) -> int:
    """The 193rd General Court sits in 2023-2024."""
    return 2 * int(session) + 1637


@dataclass(frozen=True)
class Member:
    code: str
    name: str
    branch: str  # "House" | "Senate"
    town: str
    title: str  # "Mr." | "Ms." (how a Senate pinslip names a senator)

    @property
    def last(self) -> str:
        return self.name.split()[-1]

    @cached_property
    def pair(self) -> tuple[str, str]:
        """(code, name), as ReplicaBill holds sponsors."""
        return (self.code, self.name)

    def by(self) -> str:
        """The start of a pinslip: "By Representative Ramos of Springfield" / "By Ms. Creem"."""
        if self.branch == "House":
            return f"Representative {self.last} of {self.town}"
        return f"{self.title} {self.last}"


REAL_MEMBERS = {
    m.code: m
    for m in (
        Member("O_R1", "Orlando Ramos", "House", "Springfield", "Mr."),
        Member("DMR1", "David M. Rogers", "House", "Cambridge", "Mr."),
        Member("CSC0", "Cynthia Stone Creem", "Senate", "Newton", "Ms."),
        Member("JMC0", "Joanne M. Comerford", "Senate", "Northampton", "Ms."),
        Member("RLR0", "Rebecca L. Rausch", "Senate", "Needham", "Ms."),
        Member("MJB0", "Michael J. Barrett", "Senate", "Lexington", "Mr."),
        Member("JBE0", "James B. Eldridge", "Senate", "Acton", "Mr."),
    )
}

_FIRST = (
    ("Adam", "Mr."), ("Alicia", "Ms."), ("Andrea", "Ms."), ("Anthony", "Mr."), ("Beth", "Ms."), ("Brian", "Mr."),
    ("Carla", "Ms."), ("Carlos", "Mr."), ("Catherine", "Ms."), ("Christopher", "Mr."), ("Colleen", "Ms."),
    ("Daniel", "Mr."), ("Deborah", "Ms."), ("Denise", "Ms."), ("Edward", "Mr."), ("Elena", "Ms."), ("Eric", "Mr."),
    ("Frances", "Ms."), ("Gregory", "Mr."), ("Hannah", "Ms."), ("Irene", "Ms."), ("Jacob", "Mr."), ("Janet", "Ms."),
    ("Jonathan", "Mr."), ("Joseph", "Mr."), ("Julia", "Ms."), ("Karen", "Ms."), ("Kevin", "Mr."), ("Laura", "Ms."),
    ("Leonard", "Mr."), ("Linda", "Ms."), ("Marcus", "Mr."), ("Maria", "Ms."), ("Martin", "Mr."), ("Megan", "Ms."),
    ("Nathan", "Mr."), ("Nicole", "Ms."), ("Oscar", "Mr."), ("Patricia", "Ms."), ("Paul", "Mr."), ("Rachel", "Ms."),
    ("Raymond", "Mr."), ("Rosa", "Ms."), ("Samuel", "Mr."), ("Sandra", "Ms."), ("Sean", "Mr."), ("Teresa", "Ms."),
    ("Thomas", "Mr."), ("Valerie", "Ms."), ("Victor", "Mr."), ("Wendy", "Ms."), ("William", "Mr."),
)
_LAST = (
    "Abernathy", "Alcott", "Ashby", "Bancroft", "Bellamy", "Birchall", "Blakeley", "Bramwell", "Calloway", "Carrow",
    "Castellano", "Chadwick", "Corriveau", "Crandall", "Dacosta", "Dalrymple", "Delacroix", "Draycott", "Dunmore",
    "Easterby", "Ellsworth", "Fairbanks", "Falconer", "Farrington", "Fenwick", "Galloway", "Garrison", "Gilchrist",
    "Goddard", "Hallett", "Hargrove", "Hathaway", "Holloway", "Huxley", "Ingersoll", "Jardine", "Kettering",
    "Kingsley", "Lachance", "Langford", "Larkspur", "Lindqvist", "Lockwood", "Loring", "Mabry", "Marchetti",
    "Merriweather", "Montclair", "Nakamura", "Northcott", "Oakhurst", "Okafor", "Ormsby", "Pemberton", "Pendleton",
    "Quimby", "Radcliffe", "Ravenscroft", "Redfield", "Rosales", "Rutherford", "Salazar", "Sandoval", "Seabrook",
    "Sheffield", "Southwick", "Stanhope", "Sterling", "Thackeray", "Thornbury", "Townsend", "Trevino", "Underhill",
    "Vance", "Vasquez-Hale", "Wainwright", "Waverly", "Westbrook", "Whitcombe", "Winslow", "Yarborough", "Zamora",
)
_TOWNS = (
    "Acton", "Amherst", "Andover", "Arlington", "Attleboro", "Barnstable", "Belmont", "Beverly", "Billerica",
    "Boston", "Braintree", "Brockton", "Brookline", "Burlington", "Chelmsford", "Chelsea", "Chicopee", "Dartmouth",
    "Dedham", "Dracut", "Easthampton", "Everett", "Fall River", "Falmouth", "Fitchburg", "Framingham", "Franklin",
    "Gardner", "Gloucester", "Greenfield", "Haverhill", "Holyoke", "Hopkinton", "Lawrence", "Leominster", "Lowell",
    "Lynn", "Malden", "Marlborough", "Medford", "Melrose", "Methuen", "Milford", "Milton", "Natick", "Needham",
    "New Bedford", "Newburyport", "North Adams", "Northampton", "Norwood", "Peabody", "Pittsfield", "Plymouth",
    "Quincy", "Randolph", "Revere", "Salem", "Saugus", "Shrewsbury", "Somerville", "Springfield", "Stoughton",
    "Taunton", "Tewksbury", "Wakefield", "Waltham", "Watertown", "Westfield", "Weymouth", "Woburn", "Worcester",
    "Yarmouth",
)
_AGENCIES_SPECIAL = (
    "Department of Revenue", "Department of Public Health", "Massachusetts Department of Transportation",
    "Group Insurance Commission", "Department of Environmental Protection", "Division of Banks",
)

# The joint committees (real names), the code the replica gives each (real: J19 and J33), the
# agency their bills charge, and topics: (title phrase, "for legislation to ..." phrase, chapter).
_COMMITTEES: tuple[tuple[str, str, str, tuple[tuple[str, str, int], ...]], ...] = (
    ("Education", "J13", "department of elementary and secondary education", (
        ("school bus safety", "improve the safety of school buses", 90),
        ("special education funding", "provide additional funding for special education", 71),
        ("teacher licensure", "streamline the licensure of teachers", 71),
        ("school nutrition", "promote healthy school meals", 69),
        ("student mental health services", "expand mental health services for students", 71),
        ("later school start times", "study later start times for secondary schools", 71),
    )),
    ("The Judiciary", "J19", "trial court", (
        ("juvenile court jurisdiction", "clarify the jurisdiction of the juvenile court", 119),
        ("the expungement of criminal records", "expand the expungement of certain criminal records", 276),
        ("guardianship of incapacitated persons", "reform the guardianship of incapacitated persons", 190),
        ("bail reform", "reform the setting of bail", 276),
        ("jury service", "modernize the selection of jurors", 234),
        ("restraining orders", "strengthen the enforcement of restraining orders", 209),
    )),
    ("Health Care Financing", "J16", "health policy commission", (
        ("prescription drug pricing", "make prescription drugs more affordable", 6),
        ("community health centers", "support community health centers", 118),
        ("MassHealth eligibility", "simplify eligibility for MassHealth", 118),
        ("hospital price transparency", "require hospitals to publish their prices", 111),
    )),
    ("Public Health", "J24", "department of public health", (
        ("lead poisoning prevention", "prevent childhood lead poisoning", 111),
        ("tobacco and nicotine products", "regulate the sale of nicotine products", 270),
        ("access to naloxone", "expand access to naloxone", 94),
        ("food allergy awareness", "promote food allergy awareness in restaurants", 140),
        ("safe drinking water", "protect public drinking water supplies", 111),
    )),
    ("Revenue", "J26", "commissioner of revenue", (
        ("the senior citizen property tax work-off program", "expand the senior property tax work-off program", 59),
        ("the estate tax", "reform the estate tax", 65),
        ("a sales tax holiday", "establish an annual sales tax holiday", 64),
        ("the earned income tax credit", "increase the earned income tax credit", 62),
    )),
    ("Municipalities and Regional Government", "J20", "division of local services", (
        ("regional planning agencies", "support regional planning agencies", 40),
        ("municipal fiscal relief", "provide fiscal relief to cities and towns", 44),
        ("town meeting procedures", "modernize town meeting procedures", 39),
    )),
    ("Transportation", "J29", "Massachusetts Department of Transportation", (
        ("road safety for vulnerable users", "protect vulnerable road users", 90),
        ("regional transit authorities", "improve regional transit service", 161),
        ("electric vehicle charging", "expand electric vehicle charging", 25),
        ("commercial driver licenses", "update the licensing of commercial drivers", 90),
    )),
    ("Environment and Natural Resources", "J15", "department of environmental protection", (
        ("plastic bag reduction", "reduce single-use plastic bags", 21),
        ("pollinator habitat", "protect pollinator habitat", 132),
        ("coastal resilience", "increase the resilience of coastal communities", 21),
        ("the bottle bill", "update the beverage container deposit law", 94),
    )),
    ("Housing", "J17", "executive office of housing and livable communities", (
        ("accessory dwelling units", "allow accessory dwelling units", 40),
        ("tenant protections", "protect tenants from unfair evictions", 186),
        ("affordable housing production", "increase the production of affordable housing", 40),
        ("housing authority governance", "improve the governance of local housing authorities", 121),
    )),
    ("Labor and Workforce Development", "J18", "department of labor standards", (
        ("paid family and medical leave", "clarify paid family and medical leave", 175),
        ("workplace safety for public employees", "protect the safety of public employees", 149),
        ("apprenticeship programs", "expand registered apprenticeship programs", 23),
    )),
    ("Financial Services", "J14", "division of insurance", (
        ("motor vehicle insurance", "reform motor vehicle insurance", 175),
        ("credit union charters", "modernize credit union charters", 171),
        ("debt collection practices", "regulate debt collection practices", 93),
    )),
    ("Consumer Protection and Professional Licensure", "J12", "division of occupational licensure", (
        ("home improvement contractors", "protect consumers of home improvement contractors", 142),
        ("automatic renewal of subscriptions", "regulate the automatic renewal of subscriptions", 93),
        ("licensure of massage therapists", "update the licensure of massage therapists", 112),
    )),
    ("Public Safety and Homeland Security", "J25", "executive office of public safety and security", (
        ("firefighter cancer prevention", "reduce firefighters' exposure to carcinogens", 148),
        ("emergency communications", "modernize emergency communications", 6),
        ("fireworks safety", "regulate the sale of consumer fireworks", 148),
    )),
    ("Elder Affairs", "J35", "executive office of elder affairs", (
        ("councils on aging", "support councils on aging", 40),
        ("elder protective services", "strengthen elder protective services", 19),
    )),
    ("Mental Health, Substance Use and Recovery", "J21", "department of mental health", (
        ("crisis stabilization services", "expand crisis stabilization services", 19),
        ("recovery coaches", "credential recovery coaches", 111),
    )),
    ("State Administration and Regulatory Oversight", "J27", "secretary of administration and finance", (
        ("state procurement", "modernize state procurement", 7),
        ("public records", "improve access to public records", 66),
        ("state employee telework", "allow telework for state employees", 7),
    )),
    ("Telecommunications, Utilities and Energy", "J28", "department of public utilities", (
        ("net metering", "expand net metering", 164),
        ("broadband access", "expand broadband access in underserved areas", 166),
        ("gas pipeline safety", "improve gas pipeline safety", 164),
    )),
    ("Election Laws", "J11", "secretary of the commonwealth", (
        ("early voting", "expand early voting", 54),
        ("voter registration", "modernize voter registration", 51),
        ("campaign finance disclosure", "strengthen campaign finance disclosure", 55),
    )),
    ("Higher Education", "J22", "department of higher education", (
        ("community college tuition", "make community college tuition free", 15),
        ("student loan servicers", "regulate student loan servicers", 93),
    )),
    ("Veterans and Federal Affairs", "J30", "executive office of veterans services", (
        ("veterans' benefits", "expand benefits for veterans", 115),
        ("the Purple Heart license plate", "establish a Purple Heart license plate", 90),
    )),
    ("Tourism, Arts and Cultural Development", "J31", "Massachusetts cultural council", (
        ("cultural districts", "support cultural districts", 10),
        ("the designation of an official state dessert", "designate an official state dessert", 2),
    )),
    ("Children, Families and Persons with Disabilities", "J10", "department of children and families", (
        ("foster care", "support foster families", 119),
        ("accessibility of public buildings", "improve the accessibility of public buildings", 22),
    )),
    ("Economic Development and Emerging Technologies", "J32", "executive office of economic development", (
        ("small business grants", "establish grants for small businesses", 23),
        ("the life sciences industry", "support the life sciences industry", 23),
    )),
    ("Advanced Information Technology, the Internet and Cybersecurity", "J33", "executive office of technology "
     "services and security", (
        ("cybersecurity of state agencies", "strengthen the cybersecurity of state agencies", 7),
        ("data breach notification", "update data breach notification", 93),
        ("consumer data privacy", "protect consumer data privacy", 93),
    )),
)
# the committees home rule petitions go to, and what they ask
_HOME_RULE = ("Municipalities and Regional Government", "J20")
_HOME_RULE_ASKS = (
    "grant additional licenses for the sale of all alcoholic beverages to be drunk on the premises",
    "establish a special fund for the preservation of open space",
    "continue the employment of a certain police officer",
    "convey certain land held for conservation purposes",
    "establish a board of public works",
    "exempt a certain position from the civil service law",
    "establish a department of municipal finance",
)
_TITLE_FORMS = ("An Act relative to {t}", "An Act relative to {t}", "An Act relative to {t}",
                "An Act further regulating {t}", "An Act concerning {t}", "An Act promoting {t}",
                "An Act providing for {t}", "An Act establishing a special commission on {t}")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


class _Dice(random.Random):
    """``random.Random`` with cheaper integer draws (``random()`` scaled: a bias of one part in
    2**53, no matter here): generating 7,000 documents takes hundreds of thousands of draws.
    Seeded with a string, it gives the same draws on every run and platform."""

    def _randbelow(self, n: int) -> int:  # used by choice, sample and shuffle
        return int(self.random() * n)

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            return int(self.random() * start)
        return start + int(self.random() * (stop - start))


def _iso(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, frac: int = 0) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{frac:07d}"


# --------------------------------------------------------------------------- the roster


def roster(session: int) -> list[Member]:
    """The fictional members of one General Court: 160 Representatives, then 40 Senators (the
    same for every seed, so a document's sponsor does not move when only the docket does)."""
    rng = _Dice(f"roster/{int(session)}")
    names = [(f, t, last) for f, t in _FIRST for last in _LAST]
    rng.shuffle(names)
    out = []
    for i, (first, title, last) in enumerate(names[:200]):
        house = i < 160
        j = i if house else i - 160
        code = f"Z{chr(65 + j // 26)}{chr(65 + j % 26)}{1 if house else 0}"
        middle = f" {chr(65 + rng.randrange(26))}." if rng.random() < 0.4 else ""
        out.append(Member(code, f"{first}{middle} {last}", "House" if house else "Senate", rng.choice(_TOWNS), title))
    return out


# --------------------------------------------------------------------------- the real documents


def _campaign_text(edition: int) -> str:
    """The campaign's text (``data/texts/192/H135.txt``) as re-filed in a later General Court: the same
    words, the Official Edition of its own session (the successor search compares the texts)."""
    return text_of(192, "H135").replace("2020 Official Edition", f"{edition} Official Edition")


def _history(rows: list[tuple[str, str, str]]) -> list[dict]:
    return [{"Date": d, "Branch": b, "Action": a, "IsStricken": False} for d, b, a in rows]


def _hearing(year: int, month: int, day: int, room: str, scheduled: tuple[int, int, int]) -> tuple[str, str, str]:
    return (_iso(*scheduled, 10, 4, 12, 3_300_000), "Joint",
            f"Hearing scheduled for {month:02d}/{day:02d}/{year} from 01:00 PM-05:00 PM in {room}")


_SCHOOLS_TEXT = (
    "SECTION 1. Chapter 71 of the General Laws, as appearing in the {edition} Official Edition, is hereby amended "
    "by inserting after section {after} the following section:-\n"
    "Section {new}. (a) No school district, charter school or collaborative shall acquire or use facial "
    "recognition technology in a school building, on school grounds, on a school bus or at a "
    "school-sponsored event.\n"
    "(b) No school district shall disclose an image of a student to any person for the purpose of a facial "
    "recognition search.\n"
    "SECTION 2. This act shall take effect on July 1 next following its passage.\n"
)
_POLICE_TEXT = (
    "SECTION 1. Chapter 41 of the General Laws, as appearing in the {edition} Official Edition, is hereby amended "
    "by inserting after section {after} the following section:-\n"
    "Section {new}. (a) A police department may use face surveillance in a public place to identify a "
    "person suspected of a felony, a missing person or the victim of a crime.\n"
    "(b) A police department that uses face surveillance shall adopt a written policy on its use.\n"
    "(c) No warrant shall be required for face surveillance of images the department lawfully holds.\n"
    "(d) A police department may ask the registry of motor vehicles or the department of state police to "
    "compare an image of a person against the images they hold, without a written request.\n"
    "(e) A biometric surveillance system that a police department acquired before the effective date of this "
    "section may remain in use.\n"
    "SECTION 2. This act shall take effect upon its passage.\n"
)
SENATE_WAYS_AND_MEANS = ("S30", "Senate Committee on Ways and Means")


def _real_192(members: list[Member]) -> list[ReplicaBill]:
    """H.135, S.47 and what became of them in the 192nd, as ``Replica.bundled()`` holds them (the same
    numbers, dockets, sponsors, petitioners, pinslips, histories and Similar lists, from
    ``data/bills.json``), with the texts and filing dates the bundle lacks; and S.3084."""
    bundled = {d["number"]: d for d in Replica.bundled_data()["bills"] if int(d["session"]) == 192}
    texts = {
        "H135": text_of(192, "H135"), "S47": text_of(192, "S47"), "H5091": text_of(192, "H5091"),
        "S3063": ("Ordered, That the committee on the Judiciary be authorized to sit during the recess for the "
                  "purpose of making an investigation and study of certain current Senate documents relative to "
                  "the matters referred to it.\n"),
    }
    filed = {"H135": _iso(2021, 1, 21, 16, 2, 11, 4_000_000), "S47": _iso(2021, 1, 20, 10, 48, 30, 1_000_000),
             "H5091": _iso(2022, 7, 25, 17, 30, 0), "S3063": _iso(2022, 7, 27, 15, 0, 0)}
    docs = []
    for number in ("H135", "S47", "H5091", "S3063"):
        doc = ReplicaBill.from_dict(bundled[number])
        doc.text, doc.filed = texts[number], filed[number]
        docs.append(doc)
    s3084 = ReplicaBill(
        session=192, number="S3084", docket=None, title="Bill to regulate face surveillance",
        sponsor=SENATE_WAYS_AND_MEANS, petitioners=[SENATE_WAYS_AND_MEANS],
        pinslip=("Text of section 63 of the House Bill financing improvements to information technology in the "
                 "courts (House, No. 5076), reported by the Senate Committee on Ways and Means as a separate bill."),
        **texts_for(192, "S3084"),  # DocumentText empty: the text is only on its HTML page
        filed=_iso(2022, 7, 30, 11, 40, 0),
        history=_history([(_iso(2022, 7, 30, 12, 5, 33, 2_100_000), "Senate",
                           "Read, rules suspended, read second and ordered to a third reading")]),
    )
    return docs + [s3084]


def _real_193(members: list[Member]) -> list[ReplicaBill]:
    ramos, rogers, creem = (REAL_MEMBERS[c] for c in ("O_R1", "DMR1", "CSC0"))
    house = [m for m in members if m.branch == "House"]
    senate = [m for m in members if m.branch == "Senate"]
    text = _campaign_text(2022)
    hearing = _hearing(2023, 11, 21, "B-1", (2023, 11, 14))
    h1728 = ReplicaBill(
        session=193, number="H1728", docket="HD2304", title=TITLE,
        sponsor=ramos.pair, joint_sponsor=rogers.pair,
        petitioners=[ramos.pair, rogers.pair, house[3].pair, house[17].pair, senate[5].pair],
        pinslip=("By Representatives Ramos of Springfield and Rogers of Cambridge, a petition (accompanied by bill, "
                 "House, No. 1728) of Orlando Ramos, David M. Rogers and others for legislation to implement the "
                 "recommendations of the special commission on facial recognition technology. The Judiciary. "
                 "[SIMILAR MATTER FILED IN PREVIOUS SESSION SEE HOUSE, NO. 135 OF 2021-2022.]"),
        text=text, filed=_iso(2023, 1, 19, 15, 42, 7, 2_466_667),
        similar=["S927", "192/H135", "194/H1946"],
        history=_history([
            (_iso(2023, 2, 16, 0, 0, 0), "House", "Referred to the committee on The Judiciary"),
            (_iso(2023, 2, 16, 0, 0, 0), "Senate", "Senate concurred"),
            hearing,
            (_iso(2024, 2, 12, 11, 2, 41, 5_700_000), "House",
             'Accompanied a new draft, see <a href="/Bills/193/H4359">H4359</a>'),
        ]),
    )
    s927 = ReplicaBill(
        session=193, number="S927", docket="SD750", title=TITLE,
        sponsor=creem.pair, petitioners=[creem.pair, senate[11].pair, house[40].pair],
        pinslip=("By Ms. Creem, a petition (accompanied by bill, Senate, No. 927) of Cynthia Stone Creem and others "
                 "for legislation to implement the recommendations of the special commission on facial recognition "
                 "technology. The Judiciary. [SIMILAR MATTER FILED IN PREVIOUS SESSION SEE SENATE, NO. 47 OF "
                 "2021-2022.]"),
        text=text, filed=_iso(2023, 1, 18, 11, 5, 33, 7_833_333),
        similar=["H1728", "192/S47", "194/S1053"],
        history=_history([
            (_iso(2023, 3, 30, 0, 0, 0), "Senate", "Referred to the committee on The Judiciary"),
            (_iso(2023, 3, 30, 0, 0, 0), "House", "House concurred"),
            hearing,
            (_iso(2024, 2, 12, 11, 3, 2, 1_200_000), "Senate",
             'Accompanied a new draft, see <a href="/Bills/193/H4359">H4359</a>'),
        ]),
    )
    judiciary = ("J19", "Joint Committee on the Judiciary")
    h4359 = ReplicaBill(
        session=193, number="H4359", docket=None, title=TITLE,
        sponsor=judiciary, petitioners=[judiciary],
        pinslip="Text of a new draft of House, No. 1728 and Senate, No. 927, reported by the Joint Committee on the "
                "Judiciary.",
        text=text.replace("90 days after its passage", "on January 1, 2025"),
        filed=_iso(2024, 2, 5, 16, 20, 0),
        history=_history([
            (_iso(2024, 2, 12, 11, 2, 41, 5_700_000), "House", "Reported from the committee on The Judiciary"),
            (_iso(2024, 2, 12, 11, 2, 41, 5_700_000), "House", "New draft of H1728 and S927"),
            (_iso(2024, 2, 12, 11, 2, 41, 5_700_000), "House",
             "Bill reported favorably by committee and referred to the committee on House Ways and Means"),
        ]),
    )
    # near-misses for the successor search of the 192nd's H.135 (and for the watches): another member's
    # schools ban, and the campaign's old title with other sponsors and a weaker text; neither
    # pinslip has a "SIMILAR MATTER" note
    teacher, senator = house[7], senate[9]
    schools = ReplicaBill(
        session=193, number="H495", docket="HD1421", title=SCHOOLS_TITLE,
        sponsor=teacher.pair, petitioners=[teacher.pair, house[52].pair],
        pinslip=(f"By {teacher.by()}, a petition (accompanied by bill, House, No. 495) of {teacher.name} and others "
                 f"for legislation to prohibit the use of facial recognition technology in public schools. Education."),
        text=_SCHOOLS_TEXT.format(edition=2022, after="37P", new="37Q"),
        filed=_iso(2023, 1, 18, 13, 12, 9, 8_200_000),
        history=_history([(_iso(2023, 2, 16, 0, 0, 0), "House", "Referred to the committee on Education"),
                          (_iso(2023, 2, 16, 0, 0, 0), "Senate", "Senate concurred")]),
    )
    old_title = ReplicaBill(
        session=193, number="S1410", docket="SD1877", title=OLD_TITLE,
        sponsor=senator.pair, petitioners=[senator.pair, senate[23].pair],
        pinslip=(f"By {senator.by()}, a petition (accompanied by bill, Senate, No. 1410) of {senator.name} and "
                 f"others for legislation to regulate face surveillance by police departments. Public Safety and "
                 f"Homeland Security."),
        text=_POLICE_TEXT.format(edition=2022, after="98H", new="98I"),
        filed=_iso(2023, 1, 20, 15, 31, 44, 6_600_000),
        history=_history([
            (_iso(2023, 3, 30, 0, 0, 0), "Senate", "Referred to the committee on Public Safety and Homeland Security"),
            (_iso(2023, 3, 30, 0, 0, 0), "House", "House concurred")]),
    )
    return [h1728, s927, h4359, schools, old_title]


def _real_194(members: list[Member]) -> list[ReplicaBill]:
    ramos, creem = REAL_MEMBERS["O_R1"], REAL_MEMBERS["CSC0"]
    joined = [REAL_MEMBERS[c] for c in ("JMC0", "RLR0", "MJB0", "JBE0")]
    house = [m for m in members if m.branch == "House"]
    senate = [m for m in members if m.branch == "Senate"]
    text = _campaign_text(2024)
    hearing = _hearing(2025, 7, 15, "A-1", (2025, 7, 8))
    # H.1946's own text (data/texts/194/H1946.txt), which its new draft H.4420 changes (tracker.replica.drafts)
    h1946 = ReplicaBill(
        session=194, number="H1946", docket="HD3157", title=TITLE,
        sponsor=ramos.pair, petitioners=[ramos.pair, house[8].pair, house[21].pair],
        pinslip=("By Representative Ramos of Springfield, a petition (accompanied by bill, House, No. 1946) of Orlando "
                 "Ramos and others for legislation to implement the recommendations of the special commission on "
                 "facial recognition technology. The Judiciary. [SIMILAR MATTER FILED IN PREVIOUS SESSION SEE HOUSE, "
                 "NO. 1728 OF 2023-2024.]"),
        text=text_of(194, "H1946"), filed=_iso(2025, 1, 16, 14, 11, 52, 6_100_000),
        similar=["S1053", "193/H1728"],
        history=_history([
            (_iso(2025, 2, 27, 0, 0, 0), "House", "Referred to the committee on The Judiciary"),
            (_iso(2025, 2, 27, 0, 0, 0), "Senate", "Senate concurred"),
            hearing,
        ]),
    )
    s1053 = ReplicaBill(
        session=194, number="S1053", docket="SD503", title=TITLE,
        sponsor=creem.pair, petitioners=[creem.pair] + [m.pair for m in joined],
        pinslip=("By Ms. Creem, a petition (accompanied by bill, Senate, No. 1053) of Cynthia Stone Creem, Joanne M. "
                 "Comerford, Rebecca L. Rausch, Michael J. Barrett and James B. Eldridge for legislation to implement "
                 "the recommendations of the special commission on facial recognition technology. The Judiciary. "
                 "[SIMILAR MATTER FILED IN PREVIOUS SESSION SEE SENATE, NO. 927 OF 2023-2024.]"),
        text=text, filed=_iso(2025, 1, 13, 10, 37, 15, 9_366_667),
        similar_status=400,  # the API's "Could not locate any public Documents" answer, as for some real bills
        history=_history([
            (_iso(2025, 2, 27, 0, 0, 0), "Senate", "Referred to the committee on The Judiciary"),
            (_iso(2025, 2, 27, 0, 0, 0), "House", "House concurred"),
            hearing,
        ]),
    )
    # for the watches: another member's schools ban (education), the old title without the
    # campaign's sponsors (and a weaker proposal), and a pinslip-only match
    teacher, senator, housing = house[5], senate[2], house[12]
    schools = ReplicaBill(
        session=194, number="H612", docket="HD1690", title=SCHOOLS_TITLE,
        sponsor=teacher.pair, petitioners=[teacher.pair, house[30].pair],
        pinslip=(f"By {teacher.by()}, a petition (accompanied by bill, House, No. 612) of {teacher.name} and others "
                 f"for legislation to prohibit the use of facial recognition technology in public schools. Education."),
        text=_SCHOOLS_TEXT.format(edition=2024, after="37Q", new="37R"),
        filed=_iso(2025, 1, 17, 9, 26, 40, 1_533_333),
        history=_history([(_iso(2025, 2, 27, 0, 0, 0), "House", "Referred to the committee on Education"),
                          (_iso(2025, 2, 27, 0, 0, 0), "Senate", "Senate concurred")]),
    )
    old_title = ReplicaBill(
        session=194, number="S1587", docket="SD2214", title=OLD_TITLE,
        sponsor=senator.pair, petitioners=[senator.pair],
        pinslip=(f"By {senator.by()}, a petition (accompanied by bill, Senate, No. 1587) of {senator.name} for "
                 f"legislation to regulate face surveillance by police departments. Public Safety and Homeland "
                 f"Security."),
        text=_POLICE_TEXT.format(edition=2024, after="98J", new="98K"),
        filed=_iso(2025, 1, 17, 16, 55, 3, 4_900_000),
        history=_history([
            (_iso(2025, 3, 3, 0, 0, 0), "Senate", "Referred to the committee on Public Safety and Homeland Security"),
            (_iso(2025, 3, 3, 0, 0, 0), "House", "House concurred")]),
    )
    pinslip_only = ReplicaBill(
        session=194, number="H3120", docket="HD3745", title="An Act relative to security in public housing",
        sponsor=housing.pair, petitioners=[housing.pair],
        pinslip=(f"By {housing.by()}, a petition (accompanied by bill, House, No. 3120) of {housing.name} for "
                 f"legislation to prohibit housing authorities from using facial recognition systems to control "
                 f"entry to public housing developments. Housing."),
        text=("SECTION 1. Chapter 121B of the General Laws, as appearing in the 2024 Official Edition, is hereby "
              "amended by inserting after section 32 the following section:-\n"
              "Section 32A. No housing authority shall require a tenant or a guest of a tenant to submit to an "
              "automated system that identifies a person from an image of the person as a condition of entry to a "
              "housing development.\n"
              "SECTION 2. This act shall take effect upon its passage.\n"),
        filed=_iso(2025, 1, 17, 11, 48, 22, 7_000_000),
        history=_history([(_iso(2025, 2, 27, 0, 0, 0), "House", "Referred to the committee on Housing"),
                          (_iso(2025, 2, 27, 0, 0, 0), "Senate", "Senate concurred")]),
    )
    return [h1946, s1053, schools, old_title, pinslip_only]


REAL = {192: _real_192, 193: _real_193, 194: _real_194}
# numbers of documents that come later (tracker.replica.drafts adds them): no generated document takes them
RESERVED = {194: {"H4420"}}


def real_documents(session: int) -> list[ReplicaBill]:
    """The documents of ``session`` that every generated docket holds (none for other sessions)."""
    make = REAL.get(int(session))
    return make(roster(session)) if make else []


# --------------------------------------------------------------------------- the generated ones


def _plan(rng: random.Random, n: int, share: float) -> set[int]:
    """``round(n * share)`` distinct indexes out of ``range(n)``."""
    return set(rng.sample(range(n), min(n, round(n * share))))


def _bill_text(rng: random.Random, chapter: int, purpose: str, topic: str, agency: str, year: int,
               edition: int) -> str:
    section = rng.randrange(2, 90)
    letter = "ABCDEFGH"[rng.randrange(8)]
    month = _MONTHS[rng.randrange(12)]
    parts = [
        f"SECTION 1. Chapter {chapter} of the General Laws, as appearing in the {edition} Official Edition, is "
        f"hereby amended by inserting after section {section} the following section:-\n"
        f"Section {section}{letter}. (a) The {agency} shall, in consultation with the secretary of administration "
        f"and finance, promulgate regulations to {purpose}.\n"
        f"(b) The regulations shall include, but not be limited to: (i) standards for {topic}; (ii) a process for "
        f"public comment; and (iii) penalties for violations.\n",
    ]
    if rng.random() < 0.6:
        parts.append(f"SECTION 2. The {agency} shall file a report on the implementation of this act with the clerks "
                     f"of the senate and the house of representatives not later than {month} 1, {year + 1}.\n")
    parts.append(f"SECTION {len(parts) + 1}. This act shall take effect "
                 f"{rng.choice(('upon its passage', f'on January 1, {year + 1}', '90 days after its passage'))}.\n")
    return "".join(parts)


def generate(session: int, size: int | None = None, seed: int | str | None = None,
             quirks: bool = True) -> list[ReplicaBill]:
    """The documents of ``session``'s docket in list order: the real ones (:func:`real_documents`)
    and generated ones up to ``size`` (default :data:`DEFAULT_SIZES`, or 6,500). Deterministic:
    the same ``(session, size, seed, quirks)`` give the same documents."""
    session = int(session)
    size = DEFAULT_SIZES.get(session, 6500) if size is None else int(size)
    members = roster(session)
    real = REAL[session](members) if session in REAL else []
    if size < len(real):
        raise ValueError(f"the {session} docket holds {len(real)} real documents: size {size} is too small")
    rng = _Dice(f"docket/{session}/{size}/{DEFAULT_SEED if seed is None else seed}/{quirks}")
    year = first_year(session)
    edition = year - 1
    previous = f"{year - 2}-{year - 1}"
    house = [m for m in members if m.branch == "House"]
    senate = [m for m in members if m.branch == "Senate"]
    n = size - len(real)

    # reserved numbers: the real documents', and the previous session's campaign bills (never named
    # by a generated "SIMILAR MATTER" note)
    taken = {d.number for d in real if d.number} | {d.docket for d in real if d.docket} | RESERVED.get(session, set())
    never_similar = {"H135", "S47", "H5091", "S3063", "H1728", "S927", "H4359"}

    # what each generated document is
    docket_only = _plan(rng, n, 0.02)
    resolves = _plan(rng, n, 0.03)
    orders = _plan(rng, n, 0.02) - resolves - docket_only
    joint = _plan(rng, n, 0.05)
    public = _plan(rng, n, 0.01)
    special = _plan(rng, n, 0.005) - public
    preamble = _plan(rng, n, 0.01)
    similar = _plan(rng, n, 0.3 if session in REAL else 0.0)
    specs = []
    for i in range(n):
        is_house = rng.random() < 0.62
        c = rng.randrange(len(_COMMITTEES))
        if i not in orders and i not in resolves and rng.random() < 0.08:
            c = -1  # a home rule petition
        specs.append((is_house, c, i))
    # bills are numbered in committee order, as the clerks number them; docket-only ones have no number
    specs.sort(key=lambda s: (not s[0], s[2] in docket_only, s[1]))
    numbers: dict[int, str] = {}
    for prefix, want in (("H", True), ("S", False)):
        k = 0
        for is_house, _c, i in specs:
            if is_house != want or i in docket_only:
                continue
            k += 1
            while f"{prefix}{k}" in taken:
                k += 1
            numbers[i] = f"{prefix}{k}"
    # docket numbers: a permutation of the filing order; docket-only documents were filed last
    dockets: dict[int, str] = {}
    for prefix, want in (("HD", True), ("SD", False)):
        mine = [s for s in specs if s[0] == want]
        pool = [d for d in range(1, int(len(mine) * 1.25) + 40) if f"{prefix}{d}" not in taken]
        drawn = sorted(rng.sample(pool, len(mine)))
        late = [s for s in mine if s[2] in docket_only]
        for s, d in zip(late, drawn[len(drawn) - len(late):]):
            dockets[s[2]] = f"{prefix}{d}"
        early = drawn[: len(drawn) - len(late)]
        rng.shuffle(early)
        for s, d in zip((s for s in mine if s[2] not in docket_only), early):
            dockets[s[2]] = f"{prefix}{d}"
    limits = {"H": 4200, "S": 2600}  # the previous session's bills a "SIMILAR MATTER" note may name

    docs = []
    for is_house, c, i in specs:
        branch, other = ("House", "Senate") if is_house else ("Senate", "House")
        lead = rng.choice(house if is_house else senate)
        if c == -1:
            committee, code = _HOME_RULE
            agency = "division of local services"
            town = rng.choice(_TOWNS)
            ask = rng.choice(_HOME_RULE_ASKS)
            title = f"An Act authorizing the town of {town} to {ask}"
            topic, purpose, chapter = f"the town of {town}", f"authorize the town of {town} to {ask}", 0
        else:
            committee, code, agency, topics = _COMMITTEES[c]
            topic, purpose, chapter = topics[rng.randrange(len(topics))]
            title = rng.choice(_TITLE_FORMS).format(t=topic)
        kind = "Bill"
        if i in resolves:
            kind = "Resolve"
            title = f"Resolve providing for an investigation and study by a special commission relative to {topic}"
        elif i in orders:
            kind = "Order"
            title = (f"Order relative to authorizing the joint committee on {committee} to make an investigation and "
                     f"study of certain current {branch} documents relative to {topic}")
        number = numbers.get(i)
        docket = dockets[i]
        chamber = "House" if is_house else "Senate"
        accompanied = f"(accompanied by {kind.lower()}, {chamber}, No. {number[1:]}) " if number else ""
        late = "" if number else " (subject to Joint Rule 12)"

        cosponsors = rng.sample(house if is_house else senate, rng.choice((0, 0, 1, 1, 2, 3, 4, 6, 9, 14)))
        cosponsors = [m for m in cosponsors if m is not lead]
        joint_sponsor = None
        if i in joint:
            joint_sponsor = rng.choice(senate if is_house else house)
            cosponsors.insert(0, joint_sponsor)
        petitioners = [lead.pair] + [m.pair for m in cosponsors]
        sponsor = lead.pair
        sponsor_kind = None
        others = " and others" if len(petitioners) > 1 else ""
        by = lead.by()
        if joint_sponsor is not None:
            partner = joint_sponsor
            by += (f" and Senator {partner.last}" if is_house
                   else f" and Representative {partner.last} of {partner.town}")
            petition = f"a joint petition {accompanied}of {lead.name}, {joint_sponsor.name}{others}"
        else:
            petition = f"a petition {accompanied}of {lead.name}{others}"
        if kind == "Order":
            sponsor = (code, f"Joint Committee on {committee.removeprefix('The ')}")
            if committee == "The Judiciary":
                sponsor = ("J19", "Joint Committee on the Judiciary")
            petitioners, joint_sponsor = [sponsor], None
            pinslip = (f"Order relative to authorizing the joint committee on {committee} to make an investigation "
                       f"and study of certain current {branch} documents relative to {topic}. {committee}.")
        elif i in public:
            citizen = f"{rng.choice(_FIRST)[0]} {rng.choice(_LAST)}"
            sponsor, sponsor_kind = (None, citizen), 3
            petitioners = [sponsor, lead.pair] + ([joint_sponsor.pair] if joint_sponsor else [])
            pinslip = (f"By {by} (by request), a petition {accompanied}of {citizen} for legislation to {purpose}"
                       f"{late}. {committee}.")
        elif i in special:
            agency_name = rng.choice(_AGENCIES_SPECIAL)
            sponsor, sponsor_kind = (None, agency_name), 4
            petitioners = [sponsor, lead.pair] + ([joint_sponsor.pair] if joint_sponsor else [])
            pinslip = (f"By {by} (by request), a petition {accompanied}of the {agency_name} for legislation to "
                       f"{purpose}{late}. {committee}.")
        else:
            pinslip = f"By {by}, {petition} for legislation to {purpose}{late}. {committee}."
        if i in similar and kind == "Bill":
            prefix = "H" if is_house else "S"
            ref = rng.randrange(1, limits[prefix])
            if f"{prefix}{ref}" not in never_similar:
                pinslip += (f" [SIMILAR MATTER FILED IN PREVIOUS SESSION SEE {chamber.upper()}, NO. {ref} OF "
                            f"{previous}.]")

        if c == -1:
            text = (f"SECTION 1. Notwithstanding any general or special law to the contrary, {topic} may {ask}.\n"
                    f"SECTION 2. This act shall take effect upon its passage.\n")
        elif kind == "Resolve":
            text = (f"Resolved, that a special commission is hereby established to make an investigation and study "
                    f"relative to {topic}. The commission shall consist of the {agency} or a designee, who shall "
                    f"chair it, and 6 persons appointed by the governor.\n"
                    f"The commission shall file its report with the clerks of the senate and the house of "
                    f"representatives not later than {_MONTHS[rng.randrange(12)]} 1, {year + 1}.\n")
        elif kind == "Order":
            text = (f"Ordered, That the committee on {committee} be authorized to sit during the recess for the "
                    f"purpose of making an investigation and study of certain current documents relative to "
                    f"{topic}.\n")
        else:
            text = _bill_text(rng, chapter, purpose, topic, agency, year, edition)

        month, day = (1, rng.randrange(3, 21)) if number else (rng.randrange(2, 12), rng.randrange(1, 29))
        filed = _iso(year, month, day, rng.randrange(8, 18), rng.randrange(60), rng.randrange(60),
                     rng.randrange(10_000_000))
        history = []
        if number:
            ref_month, ref_day = rng.randrange(2, 4), rng.randrange(1, 29)
            when = _iso(year, ref_month, ref_day)
            history = [{"Date": when, "Branch": branch, "Action": f"Referred to the committee on {committee}",
                        "IsStricken": False},
                       {"Date": when, "Branch": other, "Action": f"{other} concurred", "IsStricken": False}]
        docs.append(ReplicaBill(
            session=session, number=number, docket=docket, title=title, sponsor=sponsor, sponsor_kind=sponsor_kind,
            petitioners=petitioners, joint_sponsor=joint_sponsor.pair if joint_sponsor else None, pinslip=pinslip,
            text=text, legislation_type=kind, filed=filed, history=history,
            emergency_preamble=(f"Whereas, The deferred operation of this act would tend to defeat its purpose, "
                                f"which is to {purpose} forthwith, therefore it is hereby declared to be an "
                                f"emergency law, necessary for the immediate preservation of the public "
                                f"convenience." if i in preamble and kind == "Bill" else None),
        ))

    if quirks and docs:
        _spoil(rng, docs)
    return _in_list_order(real + docs)


def _spoil(rng: random.Random, docs: list[ReplicaBill]) -> None:
    """The bad input of the real list, on generated documents only: Details null, a null lead
    sponsor, odd whitespace and HTML entities in titles."""
    n = len(docs)
    at_least = 1 if n >= 50 else 0
    for d in rng.sample(docs, max(at_least, round(n * 0.016))):
        d.details_null = True
    for d in rng.sample(docs, max(at_least, n // 1000)):
        d.sponsor, d.sponsor_kind = None, None
    for d in rng.sample(docs, max(at_least, n // 500)):
        d.title = "  " + (d.title or "").replace(" relative to ", " relative  to\n ", 1) + " "
    with_and = [d for d in docs if " and " in (d.title or "")] or docs
    for d in rng.sample(with_and, min(len(with_and), max(at_least, n // 500))):
        title = d.title or ""
        d.title = title.replace(" and ", " &amp; ", 1) if " and " in title else title + " &amp; related matters"


def _in_list_order(docs: list[ReplicaBill]) -> list[ReplicaBill]:
    """House bills by number, Senate bills by number, then the docket-only documents by docket."""
    def key(d: ReplicaBill):
        ident = d.ident
        return (ident[0] != "H", d.docket_only, int("".join(ch for ch in ident if ch.isdigit())))
    return sorted(docs, key=key)


# --------------------------------------------------------------------------- the directory

# the real members' districts (see the module's docstring for how sure each is); all are Democrats
_REAL_DISTRICTS = {
    "O_R1": "Ninth Hampden", "DMR1": "Twenty-Fourth Middlesex", "CSC0": "First Middlesex and Norfolk",
    "JBE0": "Middlesex and Worcester", "MJB0": "Third Middlesex", "JMC0": "Hampshire, Franklin and Worcester",
    "RLR0": "Norfolk, Worcester and Middlesex",
}
_ORDINALS = (
    "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth", "Eleventh",
    "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth",
    *(f"{tens}{unit}" for tens in ("Twent", "Thirt") for unit in (
        "ieth", "y-First", "y-Second", "y-Third", "y-Fourth", "y-Fifth", "y-Sixth", "y-Seventh", "y-Eighth",
        "y-Ninth")),
)
# House districts per county, as many as the real House has (Middlesex two more: the replica's House
# has 162 members)
_HOUSE_COUNTIES = (("Barnstable", 5), ("Berkshire", 3), ("Bristol", 14), ("Essex", 18), ("Franklin", 2),
                   ("Hampden", 12), ("Hampshire", 3), ("Middlesex", 39), ("Norfolk", 15), ("Plymouth", 12),
                   ("Suffolk", 19), ("Worcester", 19))
_SENATE_COUNTIES = ("Barnstable", "Bristol", "Essex", "Hampden", "Hampshire", "Middlesex", "Norfolk", "Plymouth",
                    "Suffolk", "Worcester")
# besides the joint committees: the Ways and Means committees (S30 is the real code, as in the 192nd's
# directory; H33 is the replica's, as there too); H.4359 goes to House Ways and Means
_BRANCH_COMMITTEES = (("H33", "House Committee on Ways and Means", "Ways and Means (H)", "House"),
                      ("S30", "Senate Committee on Ways and Means", "Ways and Means (S)", "Senate"))
_SHORT_NAMES = {"J19": "Judiciary (J)", "J33": "Ad Info Tech/Cybersecurity"}  # real; the others are assumed


def committee_full_name(name: str) -> str:
    """A pinslip's committee ("The Judiciary", "Education") -> "Joint Committee on the Judiciary"."""
    return "Joint Committee on " + (f"the {name[4:]}" if name.startswith("The ") else name)


def _districts(rng: random.Random, real: list[Member]) -> tuple[list[str], list[str]]:
    """Shuffled House and Senate district names, but the real members' (a name like "Third
    Middlesex" is both a House and a Senate district)."""
    house = [f"{_ORDINALS[k]} {county}" for county, n in _HOUSE_COUNTIES for k in range(n)]
    house.append("Barnstable, Dukes and Nantucket")
    senate = [f"{_ORDINALS[k]} {county}" for county in _SENATE_COUNTIES for k in range(5)]
    taken = {(m.branch, _REAL_DISTRICTS[m.code]) for m in real}
    house = [d for d in house if ("House", d) not in taken]
    senate = [d for d in senate if ("Senate", d) not in taken]
    rng.shuffle(house)
    rng.shuffle(senate)
    return house, senate


def directory(session: int) -> dict:
    """The directory of a generated General Court, ``{"committees": [...], "members": [...]}`` as in
    ``data/directory.json``: every member of :func:`roster` (and, for the 192nd to the 194th, the real
    members of :data:`REAL_MEMBERS`), and the joint committees of :data:`_COMMITTEES` (those generated
    pinslips end with) with a fictional House chair and Senate chair each, and the two Ways and Means
    committees. Deterministic, and the same whatever the docket's size or seed."""
    session = int(session)
    rng = _Dice(f"directory/{session}")
    fictional = roster(session)
    real = [REAL_MEMBERS[c] for c in ("O_R1", "DMR1", "CSC0", "JMC0", "RLR0", "MJB0", "JBE0")] \
        if session in REAL else []
    house_districts, senate_districts = _districts(rng, real)
    house = [m for m in fictional if m.branch == "House"]
    senate = [m for m in fictional if m.branch == "Senate"]

    # committees: chairs are fictional members, each chairs one committee at most; members sit on a
    # joint committee 11 from the House and 6 from the Senate (chairs included), as the real ones do
    chairs_h, chairs_s = rng.sample(house, len(_COMMITTEES) + 1), rng.sample(senate, len(_COMMITTEES) + 1)
    seats: dict[str, list[str]] = {m.code: [] for m in fictional}
    committees = []
    for k, (name, code, _agency, _topics) in enumerate(_COMMITTEES):
        h, s = chairs_h[k], chairs_s[k]
        committees.append({
            "session": session, "code": code, "full_name": committee_full_name(name),
            "short_name": _SHORT_NAMES.get(code, f"{name.removeprefix('The ')} (J)"), "branch": "Joint",
            "house_chair": h.code, "senate_chair": s.code,
            "description": f"The replica's description of the {committee_full_name(name)} (not the real text)."})
        for m in rng.sample([m for m in house if m is not h], 10) + rng.sample([m for m in senate if m is not s], 5):
            seats[m.code].append(code)
    for (code, full, short, branch), chair, pool, n in zip(_BRANCH_COMMITTEES, (chairs_h[-1], chairs_s[-1]),
                                                         (house, senate), (26, 6)):
        committees.append({
            "session": session, "code": code, "full_name": full, "short_name": short, "branch": branch,
            "house_chair": chair.code if branch == "House" else None,
            "senate_chair": chair.code if branch == "Senate" else None,
            "description": f"The replica's description of the {full} (not the real text)."})
        for m in rng.sample([m for m in pool if m is not chair], n):
            seats[m.code].append(code)

    members = []
    for i, m in enumerate(real + fictional):
        first, last = m.name.split()[0], m.last
        if m.code in REAL_MEMBERS:
            district, party = _REAL_DISTRICTS[m.code], "Democrat"
        else:
            district = (house_districts if m.branch == "House" else senate_districts).pop()
            party = "Republican" if rng.random() < 0.15 else "Democrat"
        members.append({
            "session": session, "code": m.code, "name": m.name, "branch": m.branch, "district": district,
            "party": party, "email": f"{first}.{last}@example.org".lower(), "phone": f"617-555-01{i % 100:02d}",
            "fax": None, "room": f"Replica {201 + i}", "leadership": None,
            "committees": sorted(seats.get(m.code, []))})
    return {"committees": committees, "members": members}


def add_directory(replica: Replica, session: int) -> bool:
    """Give ``replica`` the :func:`directory` of ``session`` unless it has committees or members of
    that General Court already (the bundled 192nd's, or ones a test added); True when added."""
    with replica.lock:
        if replica.committees_of(session) or replica.members_of(session):
            return False
        made = directory(session)
        for c in made["committees"]:
            replica.add_committee(ReplicaCommittee.from_dict(c))
        for m in made["members"]:
            replica.add_member(ReplicaMember.from_dict(m))
    return True


# what a docket's real document gives a copy of it the replica already holds, when that copy lacks it
_FILLED_IN = ("text", "filed", "emergency_preamble", "similar", "similar_status")


def add_docket(replica: Replica, session: int, size: int | None = None, seed: int | str | None = None,
               quirks: bool = True) -> list[ReplicaBill]:
    """Generate the docket of ``session`` (:func:`generate`) into ``replica``; returns the docket's
    documents as the replica then holds them.

    A document the replica already holds under the same id (``Replica.bundled()``'s 192nd H135, S47,
    H5091 and S3063, or one a test added) stays as it is, in its place: the docket only fills in what
    it lacks (:data:`_FILLED_IN`: an empty text, filing date, Similar list...). So adding the 192nd
    docket to the bundled replica keeps one H135, with its history and Similar list, and gives it its
    text. The General Court gets its :func:`directory` unless the replica has one for it already."""
    out = []
    with replica.lock:
        for doc in generate(session, size=size, seed=seed, quirks=quirks):
            held = replica.get(doc.session, doc.ident)
            if held is None:
                out.append(replica.add_bill(doc))
                continue
            missing = {k: getattr(doc, k) for k in _FILLED_IN if not getattr(held, k) and getattr(doc, k)}
            if missing:
                replica.update_bill(held.session, held.ident, **missing)
            out.append(held)
        add_directory(replica, session)
    return out


def with_dockets(dockets: dict[int, int | None] | None = None, seed: int | str | None = None) -> Replica:
    """``Replica.bundled()`` with whole generated dockets: ``{193: 6500, 194: 7000}`` (session -> number of
    documents; None for the default size), by default the 193rd and the 194th at their default sizes,
    and the directory of each General Court that has none yet (:func:`add_directory`)."""
    replica = Replica.bundled()
    for session, size in (dockets if dockets is not None else dict.fromkeys(DEFAULT_SIZES)).items():
        add_docket(replica, session, size, seed=seed)
    return replica
