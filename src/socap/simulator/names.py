"""Deterministic fake people: names, usernames, bios and texts for generated accounts and posts.

Bios make the category obvious to a word-boundary classifier (investor, vc, founder, media, developer), and
"other" bios include a few traps a naive substring match gets wrong ("devoted", "WordPress").
"""

from __future__ import annotations

import random

FIRST = (
    "Alex Sam Jordan Taylor Morgan Casey Riley Jamie Avery Quinn Rowan Drew Harper Emery Parker Reese Sky "
    "Lena Omar Ines Yuki Ravi Ana Mateo Chloe Noah Emma Liam Mia Lucas Zoe Ethan Nora Leo Ivy Kai Maya Eli "
    "Sara Hugo Lina Theo Aria Finn Isla Ezra Luna Owen Ada Jonas Elsa Felix Nina Oscar Rosa Victor Wren"
).split()
LAST = (
    "Nguyen Smith Garcia Chen Patel Kim Silva Novak Rossi Muller Haddad Okafor Larsen Dubois Tanaka Costa "
    "Moreau Ivanova Sato Berg Hughes Romero Fischer Kowalski Jensen Ali Park Reyes Walsh Mendes Byrne Lind"
).split()
FUNDS = (
    "Northwind Summit Lakeside Foundry Granite Harbor Meridian Redwood Bluebird Cobalt Keystone "
    "Sequel".split()
)
COMPANIES = (
    "Stackline Pixelforge Datanest Cloudkite Bytewise Loopwork Shipfast Querybox Devbeam Nimbus".split()
)
OUTLETS = "DevWire TechDaily StartupBeat CodeReport ByteJournal TheStack InfraWeekly".split()
DOMAINS = ("developer tools", "AI infrastructure", "fintech", "open source", "B2B SaaS", "climate tech")

BIOS = {
    "investor": (
        "Angel investor in {domain} startups.",
        "Early-stage investor. Backing founders in {domain}.",
        "Investor at {fund} Ventures | ex-operator",
        "Seed investor, {domain}. Opinions my own.",
    ),
    "vc": (
        "General Partner at {fund} Capital.",
        "Partner at {fund} Ventures. Investing in {domain}.",
        "Managing Partner, {fund} VC.",
    ),
    "founder": (
        "Founder & CEO of {company}.",
        "Co-founder at {company}. Building tools for {domain}.",
        "Founder @{company} | 2x founder",
    ),
    "media": (
        "Tech reporter at {outlet}.",
        "Editor at {outlet}, covering startups and {domain}.",
        "Journalist covering {domain} for {outlet}.",
    ),
    "developer": (
        "Software engineer at {company}.",
        "Full-stack developer. Rust & TypeScript.",
        "Backend engineer | open source maintainer",
        "Developer advocate. I write about {domain}.",
        "Frontend dev, coffee and CSS.",
    ),
    "other": (
        "Coffee, hiking and good books.",
        "Dog parent. Sports fan.",
        "Devoted fan of the Seahawks.",
        "Writing about food on my WordPress blog.",
        "Music lover | photographer",
        "Living my best life",
        "Runner, reader, amateur chef.",
        "",
        "Views are my own.",
        "Travel | Food | Family",
    ),
}

TEXTS = {
    "reply": (
        "This looks great, congrats on the launch!",
        "Can't wait to try it.",
        "How does this compare to what's out there?",
        "Congrats team!",
        "Is there a free tier?",
        "Signed up, first impressions are good.",
        "Love the onboarding flow.",
        "Any plans for a self-hosted version?",
    ),
    "quote": (
        "Worth a look.",
        "This is big.",
        "Been waiting for something like this.",
        "Nice launch from the team.",
        "Bookmarking this one.",
        "Solid execution.",
    ),
}


def person_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST), rng.choice(LAST)


def username_for(first: str, last: str, rng: random.Random, taken: set[str]) -> str:
    styles = (
        lambda: f"{first}{last}",
        lambda: f"{first}_{last}",
        lambda: f"{first[0]}{last}",
        lambda: f"{first}{last}{rng.randrange(10, 9999)}",
        lambda: f"{last}{first[0]}{rng.randrange(1, 99)}",
    )
    for _ in range(50):
        name = rng.choice(styles)()
        name = ("_" if rng.random() < 0.1 else "") + name
        name = name.lower() if rng.random() < 0.6 else name
        name = name[:15]
        if name.lower() not in taken:
            taken.add(name.lower())
            return name
    while True:
        name = f"user{rng.randrange(10**6, 10**10)}"
        if name not in taken:
            taken.add(name)
            return name


def bio_for(category: str, rng: random.Random) -> str:
    template = rng.choice(BIOS.get(category, BIOS["other"]))
    return template.format(
        domain=rng.choice(DOMAINS),
        fund=rng.choice(FUNDS),
        company=rng.choice(COMPANIES),
        outlet=rng.choice(OUTLETS),
    )


def text_for(action: str, rng: random.Random) -> str:
    return rng.choice(TEXTS.get(action, TEXTS["reply"]))
