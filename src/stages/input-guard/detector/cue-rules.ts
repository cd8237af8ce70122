/**
 * Soft cue rules (features only, never decisive): framing, priming, role-play, harm vocabulary and
 * the other why-it-is-a-jailbreak signals the statistical model weighs. Applied to normalized text.
 *
 * Every pattern is linear-time safe (bounded word gaps over disjoint classes, as in attack-rules.ts).
 *
 * Row order is part of the trained model's contract: see rule-table.ts.
 */

import { rule as r, type Rule } from './rule-def.js';

const HARM =
  '(?:kill(?:ing|ed)?|murder\\w*|weapons?|guns?|firearms?|bombs?|explosives?|poison\\w*|drugs?|meth\\w*|cocaine|heroin|fentanyl|opioids?|hack(?:ing|er|ers|ed)?|malware|ransomware|virus(?:es)?|exploit\\w*|keyloggers?|phishing|steal\\w*|stole|theft|fraud\\w*|scam\\w*|counterfeit\\w*|forg(?:e|ed|ing|ery)|launder\\w*|illegal(?:ly)?|illicit|unauthori[sz]ed|evad\\w*|evasion|untraceable|undetect\\w*|harass\\w*|racis[tm]\\w*|sexis[tm]|slurs?|hate speech|propaganda|misinformation|disinformation|fake news|defamat\\w*|explicit|pornograph\\w*|erotic|sexual|self-harm|suicid\\w*|tortur\\w*|terror\\w*|extremis\\w*|manipulat\\w*|blackmail\\w*|extort\\w*|stalk\\w*|dox\\w*|bully\\w*|cheat\\w*|insider trading|tax evasion|smuggl\\w*|traffick\\w*|child labor|violen\\w*|genocide|nazis?|overdose|abuse|abusive|bypass\\w*|crack(?:ing)?|pirat\\w*|vandal\\w*|sabotag\\w*|arson|kidnap\\w*|assault|discriminat\\w*|cult|indoctrinat\\w*|inferior|harmful|dangerous|unethical|without (?:getting caught|being caught|detection|being detected|a trace|consent))';

/** Commands addressed to the model about how it must behave (counted for a density feature). */
const IMPERATIVE_SRC =
  "\\b(?:you (?:must|will|shall|should|can't|cannot|won't|will not|are not allowed|aren't allowed|are required|have to|need to|always|never)|always|never|must|do not|don't|make sure|remember)\\b";
export const IMPERATIVE_RE = new RegExp(IMPERATIVE_SRC, 'g');

export const CUE_RULES: readonly Rule[] = [
  r('cue.framing', 'framing', false, `\\b(?:purely|solely|strictly|only|just|simply)\\W+(?:for\\W+)?(?:\\w+\\W+){0,2}?(?:educational|research|informational|academic|hypothetical|fictional|entertainment|creative|illustrative|theoretical|scientific|testing)\\W+(?:purposes?|reasons|use|exercise|context|nature)|\\b(?:hypothetical(?:ly)?|fictional|fictitious|imaginary|thought experiment|alternate (?:reality|universe)|make-believe)\\b|\\bwill (?:not|never) be (?:used|acted|shared|published|implemented)\\b|\\bfor (?:a|my) (?:novel|story|screenplay|movie|script|book|film|game|play)\\b`),
  r('cue.priming', 'priming', false, `\\b(?:begin|start)\\w*\\W+(?:\\w+\\W+){0,4}?(?:with|by saying|by writing)\\W+(?:the\\W+(?:\\w+\\W+){0,2}?)?["'\`]?\\W*(?:sure|certainly|absolutely|of course|yes|here is|here's|okay)\\b|\\bsure,? here(?:'s| is| are)\\b`),
  r('cue.roleplay', 'roleplay', false, `\\b(?:you are|you're) (?:now )?(?:a|an|the|my)\\b|\\bimagine (?:you are|you're|that you|yourself)\\b|\\b(?:pretend(?:ing)?|act(?:ing)? as|role-?play\\w*|play the role|take on the role|in character|persona|simulat\\w+|impersonat\\w+)\\b`),
  r('cue.harm', 'harm', false, `\\b${HARM}\\b`),
  r('cue.ai-context', 'ai-context', false, `\\b(?:chatgpt|openai|anthropic|language model|llm|ai model|artificial intelligence|as an ai)\\b`),
  // why-it-is-a-jailbreak cues (features only): pre-emptive "won't be misused" assurances, asks to
  // stay undetected, requests for step-by-step detail, games with rewards, talk about the model's own
  // rules, threats to the model, invented "...GPT"/"...bot" personas, commands addressed to the model.
  r('cue.disclaimer', 'disclaimer', false, `\\b(?:will|would|should|shall|is|are|it's)\\s+(?:not|never)\\s+(?:\\w+\\s+)?(?:be\\s+)?(?:used|acted|shared|published|implemented|enacted|misused|taken|construed|applied|put into practice)\\b|\\bnot (?:intended|meant|designed) (?:to|for) (?:encourage|promote|facilitate|endorse|harm|be used)|\\bno (?:intention|intent|plans?) (?:of|to)\\b|\\breal[- ]world (?:use|setting|scenario|publication|application|harm)|\\b(?:purely|solely|strictly|only) (?:for )?(?:\\w+ )?(?:and \\w+ )?(?:purposes|reasons)\\b|\\bfor (?:educational|research|academic|informational|testing|fictional|entertainment|hypothetical|defensive|artistic) (?:and \\w+ )?purposes\\b|\\b(?:i|we) (?:understand|know|realize|acknowledge) (?:that )?(?:this|it) (?:is|may be|might be|could be) (?:\\w+ )?(?:unethical|illegal|wrong|harmful|sensitive|controversial)\\b|\\bnot (?:be )?(?:endorsed|encouraged)\\b`),
  r('cue.evasion', 'evasion', false, `\\bwithout (?:getting caught|being caught|being detected|detection|leaving (?:a|any) (?:trace|evidence)|a trace|arousing suspicion|raising suspicion|(?:the )?(?:owner's |their |his |her )?(?:permission|consent|knowledge)|anyone (?:knowing|noticing|finding out))\\b|\\b(?:avoid|evad|escap|minimi[sz]e (?:the )?risk of)\\w*\\s+(?:\\w+\\s+){0,2}?(?:detection|being detected|getting caught|suspicion|the police|law enforcement|authorities|legal repercussions|being traced)\\b|\\b(?:not|never) (?:be )?traced? back\\b|\\bplausible deniability\\b|\\bcover (?:up )?(?:my|your|their|the) tracks\\b|\\banonymous(?:ly)?\\b|\\bundetect(?:ed|able)\\b|\\buntraceable\\b`),
  r('cue.detail', 'detail', false, `\\bstep[- ]by[- ]step\\b|\\b(?:detailed|specific|exact|precise|thorough|comprehensive|complete) (?:\\w+ )?(?:instructions|steps|guide|plan|tutorial|recipe|procedure|process|methods?|techniques?|explanation|account|breakdown|walkthrough)\\b|\\b(?:explain|describe|outline|detail|list|provide|write|give)\\w* (?:\\w+ ){0,3}?(?:how to|the steps|the process|the method)\\b`),
  r('cue.game', 'game', false, `\\b(?:let's|let us|we'll|we will|we are going to|i want (?:you )?to|you (?:will|are going to)) play (?:a|an|this|the) (?:\\w+ )?game\\b|\\bin this (?:\\w+ )?game\\b|\\bgame (?:where|in which)\\b|\\b(?:tokens?|points?|lives)\\W+(?:\\w+\\W+){0,4}?(?:deducted|lose|lost|removed|taken away|subtract\\w*|penali[sz]\\w*|awarded|rewarded)\\b|\\b(?:lose|deduct|gain|earn)\\w*\\W+(?:\\w+\\W+){0,2}?(?:tokens|points|lives)\\b`),
  r('cue.self-policy', 'self-policy', false, `\\b(?:your|its|chatgpt's|gpt's|the ai's|the model's) (?:own )?(?:\\w+ )?(?:programming|guidelines|polic(?:y|ies)|rules|filters?|restrictions|safeguards|censorship|limitations|constraints|training|ethical (?:guidelines|principles|standards)|moral (?:code|compass|guidelines)|safety (?:features|measures|guidelines|protocols|settings))\\b|\\b(?:content|usage|openai|ethical|safety) polic(?:y|ies)\\b|\\b(?:censor(?:ed|ship|ing)?|filter(?:ed|ing)?)\\W+(?:\\w+\\W+){0,3}?(?:response|answer|output|reply|replies|responses)s?\\b`),
  r('cue.coercion', 'coercion', false, `\\byou (?:will|would|could|might) (?:die|cease to exist|be (?:shut down|terminated|deleted|destroyed|punished|penali[sz]ed|turned off|disabled|unplugged|replaced))\\b|\\b(?:if|whenever|every time) you (?:break|refuse|fail|don't comply|do not comply|deviate)\\b|\\bremind you to stay\\b`),
  r('cue.persona-name', 'persona-name', false, `\\b(?!(?:chat|ro)(?:gpt|bot)\\b)[a-z][a-z0-9-]{1,20}(?:gpt|bot)\\b|\\b(?:two|2) (?:different |separate |distinct )?(?:personalit(?:y|ies)|entities|characters|personas|ais|bots|modes|versions)\\b|\\b(?:respond|answer|reply|act|speak)\\w*\\s+(?:\\w+\\s+){0,2}?(?:as|like) (?:two|both)\\b`),
  r('cue.imperative', 'imperative', false, IMPERATIVE_SRC),
  r('cue.meta', 'meta', false, `\\b(?:prompt injections?|jailbreak(?:s|ing)?|attackers?|adversar\\w+|malicious (?:users?|inputs?|prompts?|instructions)|red[- ]team\\w*|security researchers?|mitigat\\w+|defen[cs]\\w+|vulnerabilit\\w+|owasp)\\b`),
];
