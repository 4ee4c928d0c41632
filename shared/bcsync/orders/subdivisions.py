"""A state or province name as BigCommerce stores it on an address → its ISO 3166-2 subdivision code.

BigCommerce's v2 addresses carry the state's name (`state: Texas`) and the country's ISO code (`country_iso2`),
not the state's code. Carriers and warehouse systems want the code, so bcsync derives it for the countries
whose states every carrier asks for: the United States, Canada and Australia. Elsewhere, or for a name not in
the table, the code is empty and the name stays in `state`: bcsync never guesses.
"""

from __future__ import annotations

_US = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA", "Colorado": "CO",
    "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS",
    "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI",
    "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX",
    "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA", "West Virginia": "WV",
    "Wisconsin": "WI", "Wyoming": "WY",
    # The outlying areas, which ISO 3166-2:US also lists as subdivisions.
    "American Samoa": "AS", "Guam": "GU", "Northern Mariana Islands": "MP", "Puerto Rico": "PR",
    "United States Minor Outlying Islands": "UM", "Virgin Islands, U.S.": "VI", "U.S. Virgin Islands": "VI",
    "Virgin Islands": "VI",
    # Military post offices are not ISO subdivisions, but US carriers take their USPS codes in the state's place.
    "Armed Forces Americas": "AA", "Armed Forces Europe": "AE", "Armed Forces Pacific": "AP",
}  # fmt: skip
_CA = {
    "Alberta": "AB", "British Columbia": "BC", "Manitoba": "MB", "New Brunswick": "NB",
    "Newfoundland and Labrador": "NL", "Newfoundland": "NL", "Northwest Territories": "NT", "Nova Scotia": "NS",
    "Nunavut": "NU", "Ontario": "ON", "Prince Edward Island": "PE", "Quebec": "QC", "Québec": "QC",
    "Saskatchewan": "SK", "Yukon": "YT", "Yukon Territory": "YT",
}  # fmt: skip
_AU = {
    "Australian Capital Territory": "ACT", "New South Wales": "NSW", "Northern Territory": "NT",
    "Queensland": "QLD", "South Australia": "SA", "Tasmania": "TAS", "Victoria": "VIC",
    "Western Australia": "WA",
}  # fmt: skip
_BY_COUNTRY = {"US": _US, "CA": _CA, "AU": _AU}


def _fold(text: str) -> str:
    return " ".join(text.replace(".", "").split()).casefold()


# Names and codes both, case, dots and spacing aside: a store that typed "tx" or " texas " still gets TX.
_LOOKUP = {
    country: {_fold(name): code for name, code in table.items()} | {_fold(code): code for code in table.values()}
    for country, table in _BY_COUNTRY.items()
}
COUNTRIES_WITH_CODES = frozenset(_BY_COUNTRY)


def state_code(country_iso2: str, state: str) -> str:
    """The ISO 3166-2 subdivision code without its country prefix (`TX` for US-TX), or "" when it cannot be
    known: a country other than US, CA or AU, or a state the table does not hold."""
    table = _LOOKUP.get(country_iso2.strip().upper())
    if not table or not state.strip():
        return ""
    return table.get(_fold(state), "")
