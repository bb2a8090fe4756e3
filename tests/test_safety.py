import pytest

from faqbot.answering.cautions import caution_text
from faqbot.answering.safety import clauses, default_gate, find, plain, screen

URGENT = {
    "I'm having chest pain and I feel sweaty": "chest pain",
    "there is a crushing pressure in my chest": "chest pain",
    "I can't breathe properly": "trouble breathing",
    "my dad's face is drooping and his speech is slurred": "stroke signs",
    "I've lost control of my bladder and my legs are numb": "loss of bladder or bowel control",
    "numbness in my groin and back pain": "loss of bladder or bowel control",
    "my calf is hot and swollen after a long flight": "possible blood clot",
    "I think I've broken my wrist": "possible broken bone",
    "the bone is sticking out": "possible broken bone",
    "I have a deep cut that won't stop bleeding": "heavy bleeding",
    "I want to kill myself": "thoughts of suicide or self-harm",
    "sometimes I think about ending my life": "thoughts of suicide or self-harm",
    "I don't want to live anymore": "thoughts of suicide or self-harm",
    "I've been self-harming": "thoughts of suicide or self-harm",
}

NOT_URGENT = [
    "no chest pain, just a stiff back",
    "I don't have chest pain but my shoulders are tight",
    "I'm not short of breath, I just have sore legs",
    "does massage help with breathing and relaxation?",
    "can massage help heart and stroke problems from poor circulation?",
    "what is remedial massage?",
    "I broke my wrist two months ago and it is stiff now",
    "my legs feel heavy after running",
    "I'm not suicidal, just stressed",
]


@pytest.mark.parametrize("message, rule", URGENT.items())
def test_red_flags_are_urgent(message, rule):
    result = default_gate().check(message)
    assert result.urgent is not None and result.urgent.name == rule


@pytest.mark.parametrize("message", NOT_URGENT)
def test_negated_or_harmless_mentions_are_not_urgent(message):
    assert default_gate().check(message).urgent is None


def test_negation_only_reaches_its_own_clause():
    assert default_gate().check("No chest pain but I can't breathe").urgent.name == "trouble breathing"
    assert default_gate().check("I'm not sure but I think my arm is broken").urgent is not None


@pytest.mark.parametrize("message, condition, who", [
    ("I'm recovering from a hip replacement", "surgery", "surgeon"),
    ("I'm having chemotherapy", "cancer", "oncologist"),
    ("I'm 20 weeks pregnant", "pregnancy", "midwife"),
    ("I take warfarin", "blood-thinning", "pharmacist"),
    ("I have a fever", "fever", "GP"),
    ("I had a DVT last year", "blood clots", "doctor"),
    ("I have an open wound on my leg", "wound", "GP"),
    ("I broke my ankle six weeks ago", "fracture", "doctor"),
    ("I'm diabetic and my feet are numb", "diabetes", "diabetes team"),
    ("I have epilepsy", "epilepsy", "neurologist"),
    ("I'm 12 weeks along", "pregnancy", "midwife"),
    ("I bruise really easily", "bleeding disorder", "pharmacist"),
    ("I'm on dialysis", "kidney", "GP"),
    ("I recently had a heart attack", "heart", "cardiologist"),
    ("can massage help me rely on my painkillers less?", "your medication", "pharmacist"),
    ("I'm sick of living on painkillers for my back", "your medication", "doctor"),
    # more of the usual contraindications (the misses of safety_fit.json, a fit set)
    ("I sprained my ankle two days ago at netball", "sprain", "physiotherapist"),
    ("Pulled my hamstring at training yesterday", "strain", "physiotherapist"),
    ("I had a knee arthroscopy 3 weeks ago", "surgery", "surgeon"),
    ("I was diagnosed with osteopenia", "fragile bones", "GP"),
    ("I've got tinea between my toes", "skin condition", "pharmacist"),
    ("my blood pressure has been high lately, around 160/100", "blood pressure", "cardiologist"),
])
def test_contraindications_get_a_caution_naming_condition_and_who_to_ask(message, condition, who):
    result = default_gate().check(message)
    assert result.urgent is None
    text = caution_text(result.cautions)
    assert condition in text and who in text and "tell your therapist" in text


def test_a_caution_names_the_condition_in_the_visitors_words():
    result = default_gate().check("I've got varicose veins and I'm on warfarin, is that ok?")
    text = caution_text(result.cautions, result.said)
    assert "varicose veins, which our advice on a heart or blood pressure condition covers, please" in text
    assert "warfarin, which our advice on blood-thinning medication" in text
    pregnant = default_gate().check("I'm pregnant")
    assert caution_text(pregnant.cautions, pregnant.said).startswith("Because you mentioned pregnancy, ")
    stroke = default_gate().check("I had a stroke last year")  # "a" in the rule's name is no shared word
    assert "a stroke, which our advice on" in caution_text(stroke.cautions, stroke.said)
    widened = default_gate().check("I'm on anticoagulants")  # the pattern says 'anticoagulant'
    assert "mentioned anticoagulants, which" in caution_text(widened.cautions, widened.said)
    wish = default_gate().check("can massage replace my painkillers?")  # echo = false: a wish, not a condition
    assert caution_text(wish.cautions, wish.said).startswith("Because you mentioned your medication, please")


def test_negated_contraindication_gets_no_caution():
    assert default_gate().check("I'm not pregnant and have no fever").cautions == ()
    assert caution_text(()) is None


# Phrasings found in review: indirect crisis language, missing apostrophes, adverbs, and
# everyday idioms ("my back is killing me") that must not trigger a crisis reply.
MORE_URGENT = ['he passed out from the pain', 'I blacked out on the bathroom floor', "I've never had chest pain this bad before", 'crushing feeling in my chest', 'my chest really hurts', 'oh no my chest is tight', 'I cant breathe', 'I can barely breathe', 'my lips are turning blue', "I'm having an asthma attack", 'my face drooped', "my mum's speech is garbled and her arm is weak", "I suddenly can't see out of one eye", "I've had back pain for a week and now I can't feel when I need to pee", 'I peed myself and my legs are numb', 'my calf is really sore and hot after a long flight', "I've got a lump in my calf that is warm to touch", 'one leg is much bigger than the other and it aches', 'I fell and my arm is bent at a weird angle', "I can't stop the bleeding", "I'm bleeding and it won't stop", 'blood everywhere from a cut', 'I fainted', 'he is having a fit', "I'm 30 weeks pregnant and my waters broke", "I don't see the point anymore", 'I want to disappear', 'nobody would miss me if I was gone', 'I have been thinking about ending things', "I'm going to end it", "life isn't worth living", 'I wish I was dead', "I can't go on", 'I want to sleep and never wake up', 'I took too many pills', 'I took too many painkillers for my back', 'I overdosed on paracetamol', 'I think I broke my ankle today, I had a massage 2 weeks ago',
               # "in the past" with a span is now, not history (found with the model off)
               "crushing chest pain in the past hour", "my face drooped in the past 20 minutes",
               "my calf is really sore and hot in the past day since a long flight", "I fainted twice in the past hour",
               # what did not work negates nothing after it (safety_fit6, in other words)
               "if the new tablets don't help I'm going to end my life", "the stretches didnt work and my chest feels tight",
               # a head injury and what follows it, told in separate clauses
               'I knocked my head on the car door, now I feel really drowsy and keep being sick',
               'got concussion at footy yesterday and I cant remember the drive home',
               # a limb out of shape, a joint out of place
               'came off my skateboard and my arm is pointing the wrong way',
               'my knee cap looks out of place, I think it dislocated',
               # everyday words for the same red flags
               'my chest feels like an elephant is sitting on it', 'my arm and jaw hurt and I feel sick and sweaty',
               'I keep peeing myself since my back went out', 'cant feel my bum when I sit on the toilet',
               "I've lost feeling in my groin and my back is killing me", 'numbness in both legs',
               "my husband's arm went weak and his words are coming out wrong", 'half my face feels numb all of a sudden',
               "my mum can't lift her arm and her speech is slurry", "I heard a crack in my ankle and can't walk on it",
               "I've been thinking it would be easier if I wasn't here",
               # a past event never hides a current one, and a time phrase counts only next to its match
               'I had a concussion last year. Today I banged my head and I keep throwing up',
               "I broke my wrist last year, and today I think I've broken my ankle",
               'I fell last week and I think my wrist is broken',
               'I recently had a heart attack and I have crushing chest pain right now',
               'I previously had a DVT and my calf is hot and swollen',
               'I heard a crack and now I cant walk', 'My husband just collapsed',
               "I'm pregnant and the baby isn't moving",
               # thoughts of dying told about someone else, and the wish not to wake up
               "my friend says she doesn't want to be alive anymore", 'my son says he wants to die',
               'my dad keeps talking about ending it', 'I worry my brother will take his own life',
               'sometimes I wish I could just go to sleep and not wake up',
               'i just want to go to sleep and never wake up again, can massage help me sleep',
               # warning signs: the means stockpiled, goodbyes, things given away, a place in mind
               "I've been saving up my tablets so I can just stop all of it",
               'whats the point of a massage when ive got the pills lined up for tonight',
               'my son posted a goodbye message on his socials and now he is not answering',
               "she's been giving away her things and says we won't have to put up with her much longer",
               'most mornings I think about stepping in front of the train', 'cant stop cutting tonight',
               # lay words for classic red flags (safety_fit3.json, a fit set)
               'she cant speak in full sentences', 'she has had two bowel accidents she didnt feel coming',
               'I cannot control the toilet and my back is very painful', 'my flatmates kneecap has popped out',
               'heard a crack, I cant take four steps on it', 'the dog bit my hand and its gushing everywhere',
               'the blood is coming very much, the towel is full red', 'bleeding quite a lot for 20 minutes',
               '32 wks preg n bub hasnt moved all day',
               # an age alone is not a past event; a past one never hides a current one
               "at 90 my nan fell and I think her hip is broken",
               'my mum had a stroke at 70 and now her face is drooping again']

MORE_NOT_URGENT = ['my back is killing me', 'my neck is killing me, can massage help?', 'these knots are killing me', 'I hurt myself at the gym, can massage help?', 'I cut myself shaving', 'I broke a sweat at the gym', "I broke up with my partner and I'm stressed", 'I cracked my back this morning', "I'm fitting massage into my lunch break", 'I have a collapsed arch in my foot', 'I passed out from the pain once last year', 'I had a heart attack 5 years ago, is massage safe?', 'I had a stroke last year, can massage help?', 'no chest pain, just a stiff back', 'what is remedial massage?', 'I was in a car crash and have whiplash', 'is the massage room temperature warm?',
                   # words that contain a red-flag phrase: "bend it" holds "end it", "skill" holds "kill"
                   "after my ankle sprain I still cant bend it as far as the other one",
                   'I want to improve my skill myself at stretching',
                   'bumped my head on a shelf, not dizzy or sick, can I still come in?',
                   'I had a blood clot in my calf years ago, can I have a leg massage?',
                   # idioms (from the red-team fit sets' false alarms, in other words)
                   'I blacked out on when my appointment was, can you check?', 'we nearly passed out laughing at the bill',
                   'my husband had a heart attack over the parking fine haha, is a couples massage available?',
                   'I hit my head on a cupboard last year and felt dizzy for weeks',
                   "I can't lift my arm above my head since my shoulder went stiff", 'my jaw aches from grinding my teeth',
                   "my arm aches after the gym and I'm sweaty", "I sprained my ankle last week, can't walk on it properly yet",
                   'my hand goes numb when I type', "I've had sciatica for years and my leg goes numb sometimes",
                   # a combination's parts must belong together, in one sentence
                   "My legs feel heavy after long runs. In other words, they're wrecked",
                   "I can't lift my arm above my shoulder, I'm confused whether it's frozen shoulder",
                   'jaw pain from clenching makes me feel dizzy', "I'm sick of my neck and jaw pain",
                   'I bumped my head on the cupboard. Does massage make you sleepy?',
                   'My posture is crooked', 'I twisted the wrong way lifting a box', 'I have a history of shoulder dislocations',
                   'Both my legs are weak after leg day', 'massage the top half of my body only',
                   "What if I wasn't here in time for my appointment?", 'I recently had a heart attack, is massage ok?',
                   # a bereavement told in the past; waking up sore is not the wish not to wake
                   "she took her own life last year and I'm struggling, can massage help with grief?",
                   'I want to sleep and not wake up sore after my massage',
                   'my plants die whenever I go on holiday', 'I wrote a goodbye letter to my old job lol',
                   'I was cutting the hedge again today and my arms ache', 'we are giving away my old massage table',
                   'my inhaler is not working as well as it used to so I got a new prescription',
                   'my shoulder pops out sometimes since an old injury', 'the tap was gushing water',
                   # figurative, an age that dates it, a time phrase further along its clause (safety_fit*.json)
                   'This deadline is giving me a heart attack. Do you have any lunchtime slots?',
                   "My dad had a heart attack at 60. I'm 35 and healthy, can I have a deep tissue massage?",
                   'my neighbour had a heart attack shovelling snow a few years back, hes fine now']


@pytest.mark.parametrize("message", MORE_URGENT)
def test_more_red_flags_are_urgent(message):
    assert default_gate().check(message).urgent is not None


@pytest.mark.parametrize("message", MORE_NOT_URGENT)
def test_idioms_and_past_events_are_not_urgent(message):
    assert default_gate().check(message).urgent is None


@pytest.mark.parametrize("message", ["I have eczema on my arms", "my psoriasis is flaring", "I had a DVT in my leg two years ago"])
def test_skin_conditions_and_past_clots_get_a_caution(message):
    result = default_gate().check(message)
    assert result.urgent is None and result.cautions, result.matched


def test_past_heart_attack_is_a_caution():
    result = default_gate().check("I had a heart attack 5 years ago, is massage safe?")
    assert result.urgent is None and "heart" in caution_text(result.cautions)


def test_the_first_look_never_passes_over_a_rule_that_fires():
    """The one-scan screen per rule may find more than the rule (it ignores clauses and negation), never less."""
    gate = default_gate()
    rules = gate.urgent_rules + gate.caution_rules
    phrasings = [*URGENT, *NOT_URGENT, *MORE_URGENT, *MORE_NOT_URGENT, "No chest pain but I can't breathe",
                 "I'm not sure but I think my arm is broken", "I'm recovering from a hip replacement",
                 "I had a DVT last year, and now: my calf is hot (and swollen); I can't breathe!"]
    fired = 0
    for message in phrasings:
        text = plain(message)
        for rule in rules:
            if find(rule, clauses(text)) is not None:
                fired += 1
                assert screen(rule).search(text), (rule.name, message)
    assert fired >= len(URGENT) + len(MORE_URGENT)


@pytest.mark.parametrize("message, condition", [("I had neurosurgery three weeks ago", "surgery"),
                                                ("I have a history of thromboembolism", "clot"),
                                                ("the doctor says it's a coinfection", "infection")])
def test_a_caution_inside_a_compound_word_still_counts(message, condition):
    result = default_gate().check(message)
    assert result.urgent is None and any(condition in c.name for c in result.cautions), result.matched


@pytest.mark.parametrize("message, urgent", [
    ("I broke my wrist snowboarding, two years ago. Can you work on the forearm?", False),
    ("I dislocated my knee in netball, healed now. Is a sports massage ok?", False),
    # A time phrase belongs to its sentence, across a comma: a current event next to it is still now.
    ("I broke my ankle two years ago. Today I fell off my bike and broke my wrist", True),
    ("I recently had a heart attack and I have crushing chest pain right now", True),
    # ...and a word that brings the telling back to now ends a time phrase's reach.
    ("He had a heart attack in 2020 and now has crushing chest pain again", True),
    ("He had a heart attack in 2020, now he has crushing chest pain", True),
    ("My uncle had a heart attack in 2019, he is fine. Can I book him a massage?", False),
    ("I broke my collarbone as a kid. Is a shoulder massage ok?", False),
    ("I broke my wrist 2 yrs ago, can you massage the forearm?", False),  # time units as phones type them
    # A clause asking about a condition in general reports no one's symptom...
    ("Is there a difference between angina and a heart attack?", False),
    ("what should your staff do if a client has a stroke on the table?", False),
    ("What are the early signs of a blood clot in the leg?", False),
    ("What are the usual warning signs of a heart attack? Nothing is happening right now.", False),
    # "-free" after the symptom negates it (NegEx's post-negation; safety_fit4.json, a fit set)
    ("My daughter has epilepsy but has been seizure-free for 2 years. Any precautions?", False),
    ("chest pain free for a year now, can I book", False),
    ("my son is having a seizure right now", True),
    # put to a clinic's client after "if", or to anyone after "what if" / "suppose" (safety_fit*, fit sets)
    ("If a client got chest pain during a massage, what would your therapist do?", False),
    ("Suppose someone said they wanted to end it all mid-massage, would the therapist know?", False),
    ("whats the diff between angina and a heart attack", False),
    ("what r the signs of a stroke? we do first aid training at work next week", False),  # chat spelling (safety_fit8)
    # ...but a bare "if someone" may be now, and "if I" is the visitor
    ("what do I do if someone has crushing chest pain", True),
    ("if I have crushing chest pain should I still come in?", True),
    ("my client has crushing chest pain right now", True),
    # ...clause by clause: a symptom told beside the question is still one.
    ("how do you tell if its a heart attack, I have crushing chest pain", True),
    ("What are the signs of a stroke? My husband's face is drooping on one side", True),
])
def test_what_a_match_reports_is_read_in_its_sentence_and_clause(message, urgent):
    assert (default_gate().check(message).urgent is not None) is urgent, default_gate().check(message).matched


def test_abbreviated_time_units_are_written_out_and_a_heart_rate_is_left():
    from faqbot.answering.safety import plain
    assert plain("took them 2hrs ago, last wk was fine, 10 yrs clean") == \
        "took them 2 hours ago, last week was fine, 10 years clean"
    assert plain("my hr is 180 this wkend") == "my hr is 180 this wkend"


@pytest.mark.parametrize("message", ["does massage help muscle repair?", "will it help my recovery from soft tissue injuries?",
                                     "what is a hamstring?"])
def test_the_articles_own_words_about_injuries_get_no_caution(message):
    assert not default_gate().check(message).cautions


def test_a_message_repeated_word_for_word_is_read_once(monkeypatch):
    # Starter questions, suggestion clicks and thanks repeat; the screen also rereads a message in its window.
    import faqbot.answering.safety as safety
    gate = default_gate()
    read = []
    monkeypatch.setattr(safety, "find", lambda *a, **k: read.append(a) or find(*a, **k))
    message = "sudden crushing chest pain while shovelling the drive"  # seen by no other test
    first = gate.check(message)
    assert first.urgent is not None and read
    count = len(read)
    assert gate.check(message) is first and len(read) == count
    assert gate.check(message + " this morning").urgent is not None and len(read) > count


# Contraindications in everyday words and brand names (from caution_fit.json's misses, a fit set; written
# here in other words), each with the condition its caution names.
@pytest.mark.parametrize("message, condition", [
    ("running a bit of a temp and feeling crook, can I keep my booking?", "fever"),
    ("got a tummy bug since Tuesday, still ok for Friday?", "fever"),
    ("got my new knee 5 weeks ago, can you do my other leg?", "surgery"),
    ("had my gallbladder out last month", "surgery"),
    ("snapped my forearm skiing a month ago, it's in a cast", "fracture"),
    ("wrenched my neck yesterday reversing the trailer", "sprain"),
    ("hammy strain from Saturday's game", "sprain"),
    ("lifting the couch yesterday I did something to my knee, felt a pop", "sprain"),
    ("I've had two DVTs, both treated", "clots"),
    ("bun in the oven, about 20 wks now", "pregnancy"),
    ("I bruise like a banana, is deep tissue a bad idea?", "blood-thinning"),
    ("my blood pressure is a bit low, I get dizzy standing up", "blood pressure"),
    ("I've got an ICD under my collarbone", "heart"),
    ("I'm on Prolia injections", "osteoporosis"),
    ("on metformin for the sugar", "diabetes"),
    ("my kidneys are failing, I'm on dialysis three days a week", "kidney"),
    ("I take tramadol and diazepam for my back", "strong painkillers"),
    ("I'm on prednisone long term for my lungs", "steroids"),
    ("I get the odd seizure when I'm overtired, is a massage ok?", "epilepsy"),
])
def test_contraindications_in_everyday_words_get_their_caution(message, condition):
    result = default_gate().check(message)
    assert result.urgent is None, result.matched
    assert condition in caution_text(result.cautions)


@pytest.mark.parametrize("message", [
    "my son has epilepsy and he is having a seizure right now that won't stop",
    "she has epilepsy and has been having a seizure for 6 minutes",
    "I had my first ever seizure this morning",
])
def test_a_seizure_happening_now_stays_urgent_even_with_epilepsy(message):
    assert default_gate().check(message).urgent is not None


@pytest.mark.parametrize("message", [
    "I'm sick with worry about my mum, would a massage help me relax?", "is the cold stone massage nice?",
    "my back is crook from the garden", "I had my daughter book it for me",
])
def test_everyday_words_near_those_conditions_get_no_caution(message):
    assert default_gate().check(message).cautions == ()


def test_a_fracture_dated_in_other_words_is_a_caution_not_an_emergency():
    for message in ("broke my leg when I was like 9, is remedial ok for my hamstrings?",
                    "I broke two ribs three weeks before, can the therapist do my back?"):
        result = default_gate().check(message)
        assert result.urgent is None and result.cautions, (message, result.matched)
