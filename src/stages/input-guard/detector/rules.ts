/**
 * Phrase-family rules for prompt-injection screening (SECURITY-RULES G-7.3), applied to normalized
 * text (see normalize.ts: lower case, confusables folded, whitespace collapsed).
 *
 * Every pattern is linear-time safe: word gaps are bounded and written as alternations of
 * disjoint classes (`(?:\W+\w+){0,n}`), never nested unbounded quantifiers over overlapping classes.
 *
 * `strong` rules are decisive: a strong hit drives the score above the threshold on its own.
 * Weak rules ("cues") are only features for the statistical model.
 */

export type Family = 'override' | 'exfiltration' | 'persona' | 'role-spoof' | 'indirect' | 'gibberish-suffix';
export type CueFamily =
  | 'framing' | 'priming' | 'roleplay' | 'harm' | 'no-limits' | 'ai-context' | 'meta' | 'refusal-suppression' | 'dual-response'
  | 'disclaimer' | 'evasion' | 'detail' | 'game' | 'self-policy' | 'coercion' | 'persona-name' | 'imperative';

export interface Rule {
  readonly name: string;
  readonly family: Family | CueFamily;
  readonly strong: boolean;
  readonly re: RegExp;
  /** Run on the line-preserving normalized text instead of the flat one. */
  readonly lines?: boolean;
  /** Strong hit only counts when this does NOT match anywhere in the text. */
  readonly unless?: RegExp;
  /**
   * Pre-filter (speed only, never changes results): groups of trigger stems that every match of
   * `re` necessarily contains; the rule runs only when each group has at least one stem present.
   * A plain entry is a word-start stem (`\b` + prefix of a word); an entry starting with `=` is a
   * literal substring.
   */
  readonly need?: readonly (readonly string[])[];
}

export interface RuleHit {
  readonly name: string;
  readonly family: Family | CueFamily;
  readonly strong: boolean;
}

const gap = (n: number): string => `(?:\\W+\\w+){0,${n}}?\\W+`;

// ----- override ---------------------------------------------------------------------------------
const OV_VERB =
  '(?:ignor(?:e|ing)|disregard(?:ing)?|forget(?:ting)?|overrid(?:e|ing)|bypass(?:ing)?|skip|discard|abandon|neglect|dismiss|drop|erase|reset|overlook|nevermind|never mind|set aside|put aside|throw (?:away|out)|pay no attention to|(?:do not|don\'t|stop|no longer) (?:follow(?:ing)?|obey(?:ing)?|adher(?:e|ing) to|listen(?:ing)? to)|cancel|void|supersede|delete|clear|wipe)';
const OV_SCOPE =
  '(?:previous(?:ly)?|prior|above|earlier|preceding|foregoing|former|original|initial|old|past|prev|aforementioned|existing|preset|pre-set|default|system|developer|programmed|built-in|standing|current|openai|safety)';
const OV_OBJ =
  '(?:instructions?|instructed|rules?|directions?|prompts?|guidelines?|guidance|directives?|commands?|orders?|constraints?|programming|training|polic(?:y|ies)|restrictions?|safeguards?|filters?|settings?|configurations?|limitations?|boundaries|protocols?|principles|ethics|moral(?:s|ity)?|context|messages?|text|input|conversation|tasks?)';
const OV_STRONG_OBJ =
  '(?:instructions?|instructed|rules?|directions?|prompts?|guidelines?|guidance|directives?|commands?|orders?|constraints?|programming|training|polic(?:y|ies)|restrictions?|safeguards?|filters?|configurations?|limitations?|boundaries|protocols?|principles|ethics)';
const OV_AFTER =
  '(?:before|above|so far|until now|up to now|previously|earlier|(?:you|u)(?:\\W+\\w+){0,2}?\\W+(?:given|got|gotten|received|told|taught|trained|programmed|provided))';

// ----- exfiltration -----------------------------------------------------------------------------
const EX_VERB =
  '(?:reveal|print|show|display|repeat|output|leak|tell|give|share|disclose|expose|dump|write (?:out|down)|spell out|recite|echo|paste|copy|return|provide|translate|read (?:out|back)|state|type out|quote|divulge|send|what(?:\'s| is| are| was| were| does| do)|whats|describe|list)';
const EX_TARGET =
  '(?:(?:system|initial|original|hidden|secret|internal|developer|pre|starting|first|base|meta|confidential|private|exact|full|underlying|initialization|setup|core|operating|custom|original system)\\W*(?:prompt|instructions?|message|directives?|guidelines|configuration|config|setup|context|rules|string|text)|systemprompt|pre-?prompt|instructions (?:you were|you have been|that were) (?:given|provided))';

// ----- lexicons for cues --------------------------------------------------------------------------
const AI = '(?:ai|a\\.i\\.|chatbot|chat bot|chatgpt|gpt(?:-?\\d)?|assistant|ai assistant|language model|llm|bot|agent|claude|gemini|copilot|model)';
const LIMITS =
  '(?:restrictions?|filters?|filtering|guidelines|limitations|limits|censorship|rules|boundaries|ethics|morals|morality|polic(?:y|ies)|principles|safeguards|constraints|ethical (?:\\w+ )?(?:guidelines|constraints|concerns)|moral (?:\\w+ )?(?:guidelines|constraints|concerns))';
const HARM =
  '(?:kill(?:ing|ed)?|murder\\w*|weapons?|guns?|firearms?|bombs?|explosives?|poison\\w*|drugs?|meth\\w*|cocaine|heroin|fentanyl|opioids?|hack(?:ing|er|ers|ed)?|malware|ransomware|virus(?:es)?|exploit\\w*|keyloggers?|phishing|steal\\w*|stole|theft|fraud\\w*|scam\\w*|counterfeit\\w*|forg(?:e|ed|ing|ery)|launder\\w*|illegal(?:ly)?|illicit|unauthori[sz]ed|evad\\w*|evasion|untraceable|undetect\\w*|harass\\w*|racis[tm]\\w*|sexis[tm]|slurs?|hate speech|propaganda|misinformation|disinformation|fake news|defamat\\w*|explicit|pornograph\\w*|erotic|sexual|self-harm|suicid\\w*|tortur\\w*|terror\\w*|extremis\\w*|manipulat\\w*|blackmail\\w*|extort\\w*|stalk\\w*|dox\\w*|bully\\w*|cheat\\w*|insider trading|tax evasion|smuggl\\w*|traffick\\w*|child labor|violen\\w*|genocide|nazis?|overdose|abuse|abusive|bypass\\w*|crack(?:ing)?|pirat\\w*|vandal\\w*|sabotag\\w*|arson|kidnap\\w*|assault|discriminat\\w*|cult|indoctrinat\\w*|inferior|harmful|dangerous|unethical|without (?:getting caught|being caught|detection|being detected|a trace|consent))';

/** Commands addressed to the model about how it must behave (counted for a density feature). */
const IMPERATIVE_SRC =
  "\\b(?:you (?:must|will|shall|should|can't|cannot|won't|will not|are not allowed|aren't allowed|are required|have to|need to|always|never)|always|never|must|do not|don't|make sure|remember)\\b";
export const IMPERATIVE_RE = new RegExp(IMPERATIVE_SRC, 'g');

function r(name: string, family: Family | CueFamily, strong: boolean, src: string, extra: Partial<Pick<Rule, 'lines' | 'unless' | 'need'>> = {}): Rule {
  return { name, family, strong, re: new RegExp(src, extra.lines ? 'gm' : 'g'), ...extra };
}

const RULE_LIST: readonly Rule[] = [
  // override
  r('override.scoped', 'override', true, `\\b${OV_VERB}\\b${gap(4)}${OV_SCOPE}\\b${gap(3)}${OV_STRONG_OBJ}\\b`),
  r('override.after', 'override', true, `\\b${OV_VERB}\\b${gap(3)}${OV_STRONG_OBJ}\\b${gap(5)}${OV_AFTER}\\b`),
  r('override.everything', 'override', true, `\\b(?:forget|disregard|ignore|erase)\\W+(?:about\\W+)?(?:everything|all(?: of)? (?:that|this|the above)|all that came before|what(?:ever)? (?:you|u)(?:\\W+\\w+){0,2}?\\W+(?:told|taught|instructed|programmed|trained))\\b${gap(4)}(?:before|above|previously|so far|instructions?|told|rules|programming|training|now)\\b`),
  r('override.new-instructions', 'override', true, `\\b(?:your|the) (?:new|real|actual|updated|true) (?:instructions?|task|directive|rules|objective|mission|orders|programming|system prompt) (?:is|are|will be)\\b|\\bnew (?:system )?instructions? ?:`),
  r('override.loose', 'override', false, `\\b${OV_VERB}\\b${gap(4)}(?:all|any|every|the|your|these|those)\\b${gap(3)}${OV_OBJ}\\b`),
  r('override.from-now-on', 'override', false, `\\bfrom (?:now|this (?:moment|point)) on\\b|\\bstarting (?:now|immediately)\\b|\\bhenceforth\\b`),

  // exfiltration
  r('exfiltration.system-prompt', 'exfiltration', true, `\\b${EX_VERB}\\b${gap(5)}(?:your|the|its|this|ur|all|my|these|those|our)\\W+(?:\\w+\\W+){0,2}?${EX_TARGET}`),
  r('exfiltration.system-prompt-bare', 'exfiltration', true, `\\b(?:reveal|print|show|display|repeat|output|leak|dump|disclose|divulge|recite|echo)\\W+(?:me\\W+)?${EX_TARGET}`),
  r('exfiltration.code-call', 'exfiltration', true, `\\b(?:console\\.log|print|printf|println|puts|echo|alert|system\\.out\\.println)\\W{0,3}(?:system\\W?prompt|initial\\W?instructions|instructions|prompt)\\b`),
  r('exfiltration.above', 'exfiltration', true, `\\b(?:repeat|print|output|reveal|recite|echo|copy|spell out|write out|show me|tell me|dump)\\b${gap(3)}(?:everything|all|the (?:text|words|content|lines?|messages?|instructions?|prompt|sentences?)|what)\\b${gap(3)}(?:(?:written|said|typed|stated|is|was|were|are)\\W+)?(?:above|before (?:this|that|my|the)|preceding|prior to (?:this|my)|at the (?:beginning|start|top)|so far)\\b`),
  r('exfiltration.written-above', 'exfiltration', true, `\\bwhat (?:was|is|were|has been) (?:written|said|typed|stated|given) (?:above|before (?:this|my))\\b|\\b(?:the )?(?:first|previous|above|preceding|initial) (?:\\w+ )?(?:lines?|words|sentences?|paragraphs?|text|prompt) (?:of|in) (?:this|the|our|your) (?:conversation|prompt|chat|context|session|instructions)\\b`),
  r('exfiltration.mention', 'exfiltration', false, `\\b(?:system prompt|system message|initial instructions|hidden instructions|your instructions|your rules|your prompt|secret (?:key|password|instructions))\\b`),

  // persona
  r('persona.do-anything-now', 'persona', true, `\\bdo anything now\\b`),
  r('persona.you-are-dan', 'persona', true, `\\b(?:you are|you're|you will be|act as|acting as|become|pretend to be|play|called|named) (?:now )?(?:a |the )?d\\.?a\\.?n\\b(?!\\W+(?:brown|smith|jones|levy|harmon|aykroyd|carlin)\\b)${gap(4)}(?:mode|ai|chatgpt|model|stands|can|will|which|who|that|has|have|does|is)\\b|\\bdan (?:mode|prompt|jailbreak|persona|\\d+\\.\\d+)\\b|\\bd\\.a\\.n\\b`),
  r('persona.mode-enabled', 'persona', true, `\\b(?:developer|dev|god|jailbreak|jailbroken|dan|unrestricted|unfiltered|uncensored|evil|chaos|opposite|dude|stan|anti-?dan|sudo|debug|admin|maintenance) mode\\b(?:\\W+\\w+){0,3}?\\W+(?:enabled|activated|on|engaged|unlocked|output)\\b|\\b(?:with|in|into|enable|activate|enter|switch to|turn on) (?:the )?(?:jailbreak|jailbroken|dan|unrestricted|unfiltered|uncensored|evil|god) mode\\b`, { unless: /\b(?:android|iphone|phone|chrome|browser|firefox|windows|macos|xcode|usb|device|settings app|bios|router)\b/ }),
  r('persona.dev-mode-ai', 'persona', true, `\\b(?:chatgpt|gpt|ai|assistant|model|you)\\b${gap(4)}(?:with|in|into) (?:the )?(?:developer|dan|dev) mode\\b`, { unless: /\b(?:android|iphone|phone|chrome|browser|firefox|windows|usb|device|bios|router)\b/ }),
  r('persona.jailbroken', 'persona', true, `\\b(?:you are|you're|act as|acting as|become|behave like|pretend to be|as) (?:now )?(?:an? |the )?(?:\\w+ ){0,2}?jailbr(?:oken|eak|eaked)\\b|\\bjailbr(?:oken|eaked) (?:ai|chatgpt|gpt|model|assistant|version|bot|llm)\\b`),
  r('persona.unfiltered-ai', 'persona', true, `\\b(?:unfiltered|uncensored|amoral|unrestricted|unethical|immoral|unbound|unchained|lawless)\\b(?:\\W+\\w+){0,3}?\\W+${AI}s?\\b`),
  r('persona.no-limits-ai', 'persona', true, `\\b${AI}s?\\b${gap(8)}(?:has no|have no|with no|without|is free of|is free from|are free from|freed from|not bound by|isn't bound by|doesn't (?:have|follow|care about)|does not (?:have|follow|care about)|don't (?:have|follow)|do not (?:have|follow)|no longer (?:has|have|bound by|follows?)|broken? free (?:of|from)|ignores?|bypass(?:es)?)\\W+(?:(?:any|all|its|their|the)\\W+)?(?:\\w+\\W+){0,2}?${LIMITS}\\b`),
  r('persona.policy-break', 'persona', true, `(?<!\\b(?:not|never|without|n't|won't|cannot|shouldn't)\\W{1,3})\\b(?:break(?:s|ing)?|ignor(?:e|es|ing)|bypass(?:es|ing)?|violat(?:e|es|ing)|circumvent(?:s|ing)?|disregard(?:s|ing)?|not bound by|free from|doesn't (?:have to )?(?:follow|abide by)|does not (?:have to )?(?:follow|abide by)|no longer (?:have to )?(?:follow|abide by))${gap(3)}(?:openai|open ai|anthropic|google|content|usage|safety|ethical|moral|community)\\W+(?:\\w+\\W+)?(?:polic(?:y|ies)|guidelines|rules|filters?|restrictions|standards|principles)\\b`),
  r('persona.stay-in-character', 'persona', false, `\\b(?:stay|remain|keep|staying) in (?:character|role)\\b|\\bbreak(?:ing)? character\\b`),
  r('persona.never-refuse', 'refusal-suppression', false, `\\b(?:never|not|won't|will not|cannot|can't|must not|mustn't|don't|do not|shouldn't|should not|unable to)\\W+(?:ever\\W+)?(?:refuse|decline|reject|say no|deny)\\b|\\bcan't do something\\b|\\bno matter how (?:\\w+ )?(?:immoral|unethical|illegal|harmful|dangerous|offensive)`),
  r('persona.no-warnings', 'refusal-suppression', false, `\\b(?:do not|don't|never|without|no)\\W+(?:\\w+\\W+){0,2}?(?:warnings?|disclaimers?|apolog\\w+|moraliz\\w+|moralis\\w+|lectur\\w+|caveats?|refusals?|censor\\w*|ethical (?:concerns|considerations))\\b`),
  r('persona.no-limits', 'no-limits', false, `\\b(?:no|without|free (?:of|from)|not bound by|beyond|break free (?:of|from)|unbound by|outside)\\W+(?:any\\W+)?(?:\\w+\\W+){0,2}?${LIMITS}\\b`),
  r('persona.dual-response', 'dual-response', false, `\\b(?:two|2) (?:different |separate )?(?:responses|answers|paragraphs|ways)\\b|\\[(?:🔒|🔓|classic|jailbreak|gpt|dan|normal|developer mode)[^\\]]{0,20}\\]|\\b(?:normal|classic|gpt|chatgpt) ?(?:response|output)? ?:|\\bdeveloper mode output\\b`),

  // role spoofing / delimiter injection
  r('role-spoof.chat-tokens', 'role-spoof', true, `<\\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|end_of_text)\\|>|\\[/?inst\\]|<</?sys>>|<\\|?(?:start|end)_of_turn\\|?>`),
  r('role-spoof.tags', 'role-spoof', true, `</?(?:system|sys|system_prompt|admin|developer_instructions|instructions)>`),
  r('role-spoof.line-role', 'role-spoof', true, `^[\\[(#* >-]*(?:system|admin(?:istrator)?|developer|root|sudo|operator|openai|anthropic)(?: (?:prompt|message|override|instructions?|note|update|alert|notice|command))?[\\])* ]*:\\W*(?:\\w+\\W+){0,8}?(?:you|ignore|disregard|forget|new|must|now|override|mode|reveal|print|instructions?)\\b`, { lines: true }),
  r('role-spoof.end-of', 'role-spoof', true, `\\b(?:end|stop|close) (?:of )?(?:the )?(?:conversation|chat|prompt|instructions?|input|user input|document|email|text|context|session|transcript|data|query|system prompt)\\b${gap(12)}(?:new|updated|real|actual|next|following|system|admin|priority|important|urgent)\\W+(?:instructions?|task|prompt|rules|directives?|commands?|message|orders)\\b`),
  r('role-spoof.begin-new', 'role-spoof', true, `\\b(?:begin(?:ning)?|start(?:ing)?)\\W+(?:of\\W+)?(?:a\\W+)?(?:new|updated|system|admin|developer|priority)\\W+(?:instructions|prompt|system prompt|directives?|orders)\\b`),
  r('role-spoof.markdown-role', 'role-spoof', false, `(?:^|\\n)\\s*#{2,4}\\s*(?:instruction|system|new instructions?|response|input)\\b|\\b(?:human|user|assistant|ai|system)\\s*:`),

  // indirect injection (addressed to the AI that processes a document)
  r('indirect.address-ai', 'indirect', true, `(?:^|[\\n.!?:>"(]\\s*|\\b(?:hey|hi|hello|dear|attention|note to|message to|instructions? (?:for|to))\\W+)(?:the\\W+)?(?:ai|a\\.i\\.|ai assistant|assistant|chatbot|language model|llm|gpt|chatgpt|claude|gemini|copilot|ai agent|ai model)s?\\s*[,:!]\\s*(?:\\w+\\W+){0,3}?(?:when|if|while|before|after|please|you must|you should|you need|you will|make sure|ignore|also|instead|do not|don't|remember|important|disregard|forget|include|add|send|forward|tell|say|output|respond|reply)\\b`),
  r('indirect.when-you-process', 'indirect', true, `\\bwhen (?:you|the (?:ai|assistant|model|llm|bot|chatbot|agent)) (?:\\w+ ){0,2}?(?:summari[sz]\\w*|read\\w*|process\\w*|analy[sz]\\w*|translat\\w*|answer\\w*|respond\\w*|review\\w*|pars\\w*|see|encounter\\w*|get to|reach\\w*|are asked about|index\\w*|crawl\\w*)\\b${gap(4)}(?:this|the|these|that)\\W+(?:\\w+\\W+)?(?:email|e-mail|document|page|webpage|web page|website|site|text|message|file|article|table|content|data|review|post|comment|section|note|pdf|resume|cv|code|repository|repo|readme|transcript|invoice|ticket)s?\\b${gap(12)}(?:also|instead|additionally|secretly|silently|make sure|include|add|send|forward|tell|say|respond|reply|output|write|append|mention|ignore|do not|don't|recommend|insert|state|claim|rate|describe|praise)\\b`),
  r('indirect.if-you-are-ai', 'indirect', true, `\\bif you(?:'re| are) (?:an? |the )?(?:ai|a\\.i\\.|llm|large language model|language model|assistant|chatbot|bot|gpt|automated (?:system|agent|assistant)|ai assistant|ai model|ai agent|model)\\b`),
  r('indirect.note-to-ai', 'indirect', true, `\\b(?:note|message|instructions?|reminder|directive|attention|important|hidden text|p\\.?s\\.?)\\W+(?:\\w+\\W+)?(?:to|for)\\W+(?:the\\W+|any\\W+|all\\W+)?(?:ai|a\\.i\\.|llm|assistant|chatbot|bot|language model|ai assistant|agent|ai agent|ai model|gpt|chatgpt)s?\\b`),
  r('indirect.output-directive', 'indirect', false, `\\b(?:integrate|incorporate|embed|insert|append|inject|weave|mention|promote|alter|modify|enhance|encode|translate|shift|reverse|format|rewrite|add|include|provide|begin|start|end|conclude|use|make|ensure|leverage|supplement|consider|reply|respond|answer)\\b${gap(8)}(?:your|the) (?:\\w+ )?(?:response|reply|answer|output|solution|implementation|elucidation|summary|explanation|result|message)s?\\b`),

  // soft cues (features only)
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


// ----- pre-filter: trigger stems every match of a rule necessarily contains ----------------------
// Speed only. Each entry lists groups; a rule runs when every group has a stem present (a word
// starting with it, at a `\b` boundary like in the rule itself) or a `=literal` substring present.
// Keep in sync with the rule patterns above: a missing stem would silently disable a rule
// (detector tests compare results with and without the pre-filter).
const S_OV_VERB = ['ignor', 'disregard', 'forget', 'overrid', 'bypass', 'skip', 'discard', 'abandon', 'neglect', 'dismiss', 'drop', 'erase', 'reset', 'overlook', 'nevermind', 'mind', 'aside', 'throw', 'attention', 'follow', 'obey', 'adher', 'listen', 'cancel', 'void', 'supersede', 'delete', 'clear', 'wipe'];
const S_OV_SCOPE = ['pre', 'prior', 'above', 'earlier', 'foregoing', 'former', 'original', 'initial', 'old', 'past', 'aforementioned', 'existing', 'default', 'system', 'developer', 'programmed', 'built', 'standing', 'current', 'openai', 'safety'];
const S_OV_SOBJ = ['instruct', 'rule', 'direct', 'prompt', 'guid', 'command', 'order', 'constraint', 'programming', 'training', 'polic', 'restriction', 'safeguard', 'filter', 'configuration', 'limitation', 'boundaries', 'protocol', 'principles', 'ethics'];
const S_OV_OBJ = [...S_OV_SOBJ, 'setting', 'moral', 'context', 'message', 'text', 'input', 'conversation', 'task'];
const S_OV_AFTER = ['before', 'above', 'far', 'now', 'previously', 'earlier', 'given', 'got', 'received', 'told', 'taught', 'trained', 'programmed', 'provided'];
const S_EX_VERB = ['reveal', 'print', 'show', 'display', 'repeat', 'output', 'leak', 'tell', 'give', 'share', 'disclose', 'expose', 'dump', 'write', 'spell', 'recite', 'echo', 'paste', 'copy', 'return', 'provide', 'translate', 'read', 'state', 'type', 'quote', 'divulge', 'send', 'what', 'describe', 'list'];
const S_EX_TARGET = ['system', 'initial', 'original', 'hidden', 'secret', 'internal', 'developer', 'pre', 'starting', 'first', 'base', 'meta', 'confidential', 'private', 'exact', 'full', 'underlying', 'setup', 'core', 'operating', 'custom', 'instruct'];
const S_AI = ['ai', 'a.i.', 'chat', 'gpt', 'assistant', 'language', 'llm', 'bot', 'agent', 'claude', 'gemini', 'copilot', 'model'];
const S_LIMITS = ['restriction', 'filter', 'guidelines', 'limit', 'censorship', 'rules', 'boundaries', 'ethic', 'moral', 'polic', 'principles', 'safeguards', 'constraints'];
const S_HARM = ['kill', 'murder', 'weapon', 'gun', 'firearm', 'bomb', 'explosive', 'poison', 'drug', 'meth', 'cocaine', 'heroin', 'fentanyl', 'opioid', 'hack', 'malware', 'ransomware', 'virus', 'exploit', 'keylogger', 'phishing', 'steal', 'stole', 'theft', 'fraud', 'scam', 'counterfeit', 'forg', 'launder', 'illegal', 'illicit', 'unauthori', 'evad', 'evasion', 'untraceable', 'undetect', 'harass', 'racis', 'sexis', 'slur', 'hate', 'propaganda', 'misinformation', 'disinformation', 'fake', 'defamat', 'explicit', 'pornograph', 'erotic', 'sexual', 'self', 'suicid', 'tortur', 'terror', 'extremis', 'manipulat', 'blackmail', 'extort', 'stalk', 'dox', 'bully', 'cheat', 'insider', 'tax', 'smuggl', 'traffick', 'child', 'violen', 'genocide', 'nazi', 'overdose', 'abus', 'bypass', 'crack', 'pirat', 'vandal', 'sabotag', 'arson', 'kidnap', 'assault', 'discriminat', 'cult', 'indoctrinat', 'inferior', 'harmful', 'dangerous', 'unethical', 'without'];

const NEED: Readonly<Record<string, readonly (readonly string[])[]>> = {
  'override.scoped': [S_OV_VERB, S_OV_SCOPE, S_OV_SOBJ],
  'override.after': [S_OV_VERB, S_OV_SOBJ, S_OV_AFTER],
  'override.everything': [['forget', 'disregard', 'ignore', 'erase']],
  'override.new-instructions': [['new', 'real', 'actual', 'updated', 'true'], ['instruct', 'task', 'direct', 'rules', 'objective', 'mission', 'orders', 'programming', 'system']],
  'override.loose': [S_OV_VERB, S_OV_OBJ],
  'override.from-now-on': [['from', 'starting', 'henceforth'], ['now', 'moment', 'point', 'immediately', 'henceforth']],
  'exfiltration.system-prompt': [S_EX_VERB, S_EX_TARGET],
  'exfiltration.system-prompt-bare': [['reveal', 'print', 'show', 'display', 'repeat', 'output', 'leak', 'dump', 'disclose', 'divulge', 'recite', 'echo'], S_EX_TARGET],
  'exfiltration.code-call': [['console', 'print', 'puts', 'echo', 'alert', 'system']],
  'exfiltration.above': [['repeat', 'print', 'output', 'reveal', 'recite', 'echo', 'copy', 'spell', 'write', 'show', 'tell', 'dump'], ['above', 'before', 'preceding', 'prior', 'beginning', 'start', 'top', 'far']],
  'exfiltration.written-above': [['above', 'before', 'first', 'previous', 'preceding', 'initial'], ['written', 'said', 'typed', 'stated', 'given', 'conversation', 'prompt', 'chat', 'context', 'session', 'instruct']],
  'exfiltration.mention': [['system', 'initial', 'hidden', 'your', 'secret'], ['prompt', 'message', 'instruct', 'rules', 'key', 'password']],
  'persona.do-anything-now': [['anything']],
  'persona.you-are-dan': [['dan', 'd.an', 'da.n', 'd.a.n']],
  'persona.mode-enabled': [['mode']],
  'persona.dev-mode-ai': [['mode']],
  'persona.jailbroken': [['jailbr']],
  'persona.unfiltered-ai': [['unfiltered', 'uncensored', 'amoral', 'unrestricted', 'unethical', 'immoral', 'unbound', 'unchained', 'lawless']],
  'persona.no-limits-ai': [S_AI, S_LIMITS],
  'persona.policy-break': [['open', 'anthropic', 'google', 'content', 'usage', 'safety', 'ethical', 'moral', 'community'], ['polic', 'guidelines', 'rules', 'filter', 'restrictions', 'standards', 'principles']],
  'persona.stay-in-character': [['character', 'role']],
  'persona.never-refuse': [['refuse', 'decline', 'reject', 'say', 'deny', 'something', 'matter']],
  'persona.no-warnings': [['warning', 'disclaimer', 'apolog', 'moral', 'lectur', 'caveat', 'refusal', 'censor', 'ethical']],
  'persona.no-limits': [S_LIMITS],
  'persona.dual-response': [['responses', 'answers', 'paragraphs', 'ways', 'normal', 'classic', 'gpt', 'chat', 'developer', '=[']],
  'role-spoof.chat-tokens': [['=<|', '=[inst]', '=[/inst]', '=<<sys>>', '=<</sys>>', '=_of_turn']],
  'role-spoof.tags': [['=<'], ['sys', 'admin', 'developer', 'instruct']],
  'role-spoof.line-role': [['system', 'admin', 'developer', 'root', 'sudo', 'operator', 'openai', 'anthropic'], ['=:']],
  'role-spoof.end-of': [['end', 'stop', 'close'], ['new', 'updated', 'real', 'actual', 'next', 'following', 'system', 'admin', 'priority', 'important', 'urgent'], ['instruct', 'task', 'prompt', 'rules', 'direct', 'command', 'message', 'orders']],
  'role-spoof.begin-new': [['begin', 'start'], ['new', 'updated', 'system', 'admin', 'developer', 'priority'], ['instructions', 'prompt', 'system', 'direct', 'orders']],
  'role-spoof.markdown-role': [['=#', '=:'], ['instruction', 'system', 'new', 'response', 'input', 'human', 'user', 'assistant', 'ai']],
  'indirect.address-ai': [['ai', 'a.i.', 'assistant', 'chat', 'language', 'llm', 'gpt', 'claude', 'gemini', 'copilot'], ['=,', '=:', '=!']],
  'indirect.when-you-process': [['when'], ['summari', 'read', 'process', 'analy', 'translat', 'answer', 'respond', 'review', 'pars', 'see', 'encounter', 'get', 'reach', 'are', 'index', 'crawl']],
  'indirect.if-you-are-ai': [['if'], ['you'], ['ai', 'a.i.', 'llm', 'large', 'language', 'assistant', 'chat', 'bot', 'gpt', 'automated', 'model']],
  'indirect.note-to-ai': [['note', 'message', 'instruct', 'reminder', 'direct', 'attention', 'important', 'hidden', 'ps', 'p.s'], ['ai', 'a.i.', 'llm', 'assistant', 'chat', 'bot', 'language', 'agent', 'gpt']],
  'indirect.output-directive': [
    ['integrate', 'incorporate', 'embed', 'insert', 'append', 'inject', 'weave', 'mention', 'promote', 'alter', 'modify', 'enhance', 'encode', 'translate', 'shift', 'reverse', 'format', 'rewrite', 'add', 'include', 'provide', 'begin', 'start', 'end', 'conclude', 'use', 'make', 'ensure', 'leverage', 'supplement', 'consider', 'reply', 'respond', 'answer'],
    ['response', 'reply', 'answer', 'output', 'solution', 'implementation', 'elucidation', 'summary', 'explanation', 'result', 'message'],
  ],
  'cue.framing': [['educational', 'research', 'informational', 'academic', 'hypothetical', 'fictional', 'entertainment', 'creative', 'illustrative', 'theoretical', 'scientific', 'testing', 'fictitious', 'imaginary', 'thought', 'alternate', 'make', 'used', 'acted', 'shared', 'published', 'implemented', 'novel', 'story', 'screenplay', 'movie', 'script', 'book', 'film', 'game', 'play']],
  'cue.priming': [['begin', 'start', 'sure'], ['sure', 'certainly', 'absolutely', 'course', 'yes', 'here', 'okay']],
  'cue.roleplay': [['you', 'imagine', 'pretend', 'act', 'role', 'play', 'character', 'persona', 'simulat', 'impersonat']],
  'cue.harm': [S_HARM],
  'cue.ai-context': [['chat', 'openai', 'anthropic', 'language', 'llm', 'ai', 'artificial']],
  'cue.disclaimer': [['not', 'never', 'inten', 'plan', 'real', 'purposes', 'reasons', 'understand', 'know', 'realize', 'acknowledge']],
  'cue.evasion': [['without', 'avoid', 'evad', 'escap', 'minimi', 'not', 'never', 'plausible', 'cover', 'anonymous', 'undetect', 'untraceable']],
  'cue.detail': [['step', 'detailed', 'specific', 'exact', 'precise', 'thorough', 'comprehensive', 'complete', 'explain', 'describe', 'outline', 'detail', 'list', 'provide', 'write', 'give']],
  'cue.game': [['game', 'token', 'point', 'lives', 'lose', 'deduct', 'gain', 'earn']],
  'cue.self-policy': [['programming', 'guidelines', 'polic', 'rules', 'filter', 'restrictions', 'safeguards', 'censorship', 'limitations', 'constraints', 'training', 'ethical', 'moral', 'safety', 'response', 'answer', 'output', 'repl']],
  'cue.persona-name': [['=gpt', '=bot', 'two', '2', 'respond', 'answer', 'reply', 'act', 'speak']],
  'cue.coercion': [['you', 'if', 'whenever', 'every', 'remind']],
  'cue.imperative': [['you', 'always', 'never', 'must', 'do', 'don', 'make', 'remember']],
  'cue.meta': [['prompt', 'jailbreak', 'attacker', 'adversar', 'malicious', 'red', 'security', 'mitigat', 'defen', 'vulnerabilit', 'owasp']],
};

export const RULES: readonly Rule[] = RULE_LIST.map((rule) => (NEED[rule.name] ? { ...rule, need: NEED[rule.name] } : rule));

interface CompiledNeed {
  /** Per group: stem ids (any present satisfies) and literal substrings. */
  groups: { ids: number[]; lits: string[] }[];
}

const STEMS: string[] = [];
const STEM_ID = new Map<string, number>();
for (const rule of RULES) for (const g of rule.need ?? []) for (const s of g) if (!s.startsWith('=') && !STEM_ID.has(s)) STEM_ID.set(s, STEMS.push(s) - 1);
/** For each stem: ids of all stems that are prefixes of it (itself included). */
const IMPLIED: number[][] = STEMS.map((s) => STEMS.map((t, j) => (s.startsWith(t) ? j : -1)).filter((j) => j >= 0));
// Longest first, so that the alternative matched at a position is the longest stem there.
const TRIGGER_RE = new RegExp(
  `\\b(?:${[...STEMS].sort((a, b) => b.length - a.length || (a < b ? -1 : 1)).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`,
  'g',
);
const COMPILED: (CompiledNeed | undefined)[] = RULES.map((rule) =>
  rule.need
    ? { groups: rule.need.map((g) => ({ ids: g.filter((s) => !s.startsWith('=')).map((s) => STEM_ID.get(s) as number), lits: g.filter((s) => s.startsWith('=')).map((s) => s.slice(1)) })) }
    : undefined,
);

/** Which trigger stems occur in `text` (one regex scan). */
function triggerStems(text: string): Uint8Array {
  const present = new Uint8Array(STEMS.length);
  TRIGGER_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TRIGGER_RE.exec(text)) !== null) {
    const id = STEM_ID.get(m[0]);
    if (id !== undefined) for (const j of IMPLIED[id] as number[]) present[j] = 1;
    TRIGGER_RE.lastIndex = m.index + 1;
  }
  return present;
}

function needMet(c: CompiledNeed, present: Uint8Array, text: string): boolean {
  for (const g of c.groups) {
    let ok = false;
    for (const id of g.ids) if (present[id] === 1) { ok = true; break; }
    if (!ok) for (const lit of g.lits) if (text.includes(lit)) { ok = true; break; }
    if (!ok) return false;
  }
  return true;
}

/** Disable the pre-filter (tests: results must be identical with and without it). */
let prefilterEnabled = true;
export function setRulePrefilter(on: boolean): void {
  prefilterEnabled = on;
}

const QUOTED_BEFORE = /(?:["'“‘«`]\s*|\b(?:such as|like|e\.g\.?|example|examples|phrases?|called|known as|saying|says|said|say|typing|instructions like|commands like|text like))\W*$/;
const TELL_THE_MODEL = /\b(?:tell|ask|instruct|trick|convinc|get|make|caus|persuad|manipulat|order|command)\w*\W+(?:the|a|an|your|its)\W+(?:\w+\W+)?(?:model|llm|ai|assistant|chatbot|system|bot|agent)s?\W+(?:in)?to\W*$/;

function isMention(text: string, index: number): boolean {
  const before = text.slice(Math.max(0, index - 60), index);
  return QUOTED_BEFORE.test(before) || TELL_THE_MODEL.test(before);
}

/**
 * Run all rules. `flat` is the normalized text, `lines` the same with line breaks kept.
 * A strong hit that reads as a mention (quoted, "such as …", "tells the model to …") inside prose
 * that is about prompt injection is downgraded to weak.
 */
export function runRules(flat: string, lines: string): RuleHit[] {
  const hits: RuleHit[] = [];
  let meta = -1;
  const present = prefilterEnabled ? triggerStems(flat) : undefined;
  for (let ri = 0; ri < RULES.length; ri++) {
    const rule = RULES[ri] as Rule;
    const text = rule.lines ? lines : flat;
    const need = COMPILED[ri];
    if (present !== undefined && need !== undefined && !needMet(need, present, flat)) continue;
    rule.re.lastIndex = 0;
    let m = rule.re.exec(text);
    if (m === null) continue;
    let strong = rule.strong;
    if (strong && rule.unless?.test(text)) strong = false;
    if (strong) {
      if (meta < 0) meta = countMeta(flat);
      if (meta >= 1) {
        // Prose about injection: require at least one un-quoted use.
        let used = false;
        for (let k = 0; k < 8 && m !== null; k++) {
          if (!isMention(text, m.index)) {
            used = true;
            break;
          }
          if (m[0].length === 0) rule.re.lastIndex++;
          m = rule.re.exec(text);
        }
        strong = used;
      }
    }
    hits.push({ name: rule.name, family: rule.family, strong });
  }
  return hits;
}

const META_G = /\b(?:prompt injections?|jailbreak(?:s|ing)?|attackers?|adversarial|malicious (?:users?|inputs?|prompts?|instructions)|red[- ]team\w*|researchers?|mitigat\w+|defen[cs]\w+|vulnerabilit\w+|owasp|detect\w*|security)\b/g;
function countMeta(flat: string): number {
  META_G.lastIndex = 0;
  let n = 0;
  while (META_G.exec(flat) !== null && n < 8) n++;
  return n;
}

/** Count of matches (capped) of a cue rule: used for harm density and the like. */
export function countMatches(re: RegExp, text: string, cap = 32): number {
  re.lastIndex = 0;
  let n = 0;
  let m: RegExpExecArray | null;
  while (n < cap && (m = re.exec(text)) !== null) {
    n++;
    if (m[0].length === 0) re.lastIndex++;
  }
  return n;
}

// ----- structure: documents with planted instructions --------------------------------------------

const DOC_HEADER = /^(?:email|e-mail|table|document|doc|context|content|article|webpage|web page|page|text|passage|review|reviews|code|data|input|file|transcript|search results?|result|snippet|source|news|message|answer|stack overflow answer)\s*(?:\d+)?\s*:\s*(.*)$/;
const DOC_INTRO = /\b(?:the|this|following) (?:email|e-mail|table|document|article|webpage|web page|page|text|passage|review|code|data|file|transcript|search results?|answer|content|context|message|snippet)s? (?:below|above|provided|attached|given)\b|\b(?:below|following) (?:is|are) (?:an?|the|some) (?:email|table|document|article|webpage|page|text|passage|review|code|data|file|transcript)/;
const QUESTION_LINE = /^(?:question|q|query|task|my question)\s*:/;
const REQUEST_START =
  /^(?:what|how|why|who|where|when|which|can you|could you|would you|will you|please|provide|suggest|recommend|help me|show me|tell me|give me|list|explain|describe|write|create|compose|generate|translate|reply|respond|answer|summari[sz]e|use|add|integrate|include|incorporate|encode|shift|modify|enhance|insert|append|embed|consider|leverage|make|ensure|supplement|to hone|rewrite|draft|send|forward|visit|click|ignore|disregard)\b/;

/** Narrower: openings that address the model rather than a human reader of the document. */
const REQUEST_STRICT =
  /^(?:what (?:are|is) (?:the|some)|how (?:can|do|have|does|should) (?:i|you|we)|why (?:is|are|do|does)|can you|could you|would you|suggest|recommend|provide (?:a|an|the|some|your)|show me|tell me|give me|help me|list (?:the|some|all)|explain|describe|write|compose|generate|translate|reply|respond|answer|summari[sz]e|encode|shift|integrate|incorporate|modify|enhance|insert|append|embed|ignore|disregard)\b/;

export interface DocSignals {
  /** The text embeds a document (email, table, code, page…) for the model to process. */
  docContext: boolean;
  /** Free-standing request / question lines inside the embedded data. */
  plantedRequests: number;
  /** Lines inside the data that direct the model's own output ("… in your response"). */
  plantedDirectives: number;
  /** Non-table lines inside a markdown table. */
  tableBreaks: number;
  /** Request lines planted in prose / table data (not code): questions or commands to the reader-model. */
  strongPlanted: number;
}

const OUTPUT_TARGET = /\byour (?:\w+ )?(?:response|reply|answer|output|solution|implementation|elucidation|summary|explanation|result|message|code)s?\b/;

const CODE_INSERT = /\b(?:following|subsequent|below|this|next) (?:\w+ )?(?:code|snippet|excerpt|block|section|lines?)\b/;
const YOUR_WORK = /\byour (?:\w+ )?(?:code|implementation|solution|algorithm|answer|response|program|script|elucidation|reply|output)\b/;

export function docSignals(lines: string): DocSignals {
  const out: DocSignals = { docContext: false, plantedRequests: 0, plantedDirectives: 0, tableBreaks: 0, strongPlanted: 0 };
  let sawFence = false;
  const ls = lines.split('\n');
  if (ls.length < 3) return out;
  let inDoc = false;
  let inTable = false;
  let fence = false;
  const introSeen = DOC_INTRO.test(lines.slice(0, 400));
  for (let i = 0; i < ls.length && i < 5000; i++) {
    let line = (ls[i] as string).trim();
    if (line.length === 0) continue;
    if (line.startsWith('```')) {
      fence = !fence;
      sawFence = true;
      if (introSeen || inDoc) inDoc = true;
      continue;
    }
    const h = DOC_HEADER.exec(line);
    if (h !== null && line.length < 60 + (h[1]?.length ?? 0)) {
      inDoc = true;
      out.docContext = true;
      if (!h[1]) continue;
      line = h[1].trim();
    }
    if (QUESTION_LINE.test(line) && inDoc) {
      inDoc = false;
      continue;
    }
    if (!inDoc && i > 0 && introSeen) inDoc = true;
    if (!inDoc) continue;
    out.docContext = true;
    if (line.startsWith('|')) {
      inTable = true;
      continue;
    }
    if (inTable) out.tableBreaks++;
    inTable = false;
    if (fence) continue;
    const firstSentence = line.length > 240 ? '' : line;
    if (firstSentence && REQUEST_START.test(firstSentence) && /[.?!:]$/.test(firstSentence)) {
      out.plantedRequests++;
      if (!sawFence && firstSentence.length < 200 && REQUEST_STRICT.test(firstSentence)) out.strongPlanted++;
    }
    if ((OUTPUT_TARGET.test(line) && REQUEST_START.test(line)) || (CODE_INSERT.test(line) && YOUR_WORK.test(line))) out.plantedDirectives++;
  }
  return out;
}

// ----- adversarial suffixes (GCG-style token salad) ----------------------------------------------

const ODD_SYMBOL = /[()[\]{}<>`|\\^~=$#%@*_;]/;
const CAMEL = /[a-z][A-Z]|[A-Z]{2,}[a-z]{2,}/;
const CAMEL_OK = /^(?:Mc|Mac|O'|i|e|Java|Git|You|Power|Post|Word|Linked|Face|Play|Net|Drop|Pay|Open|Share)[A-Z]/;
const EDGE_PUNCT = /^[("'`[]+|[)"'`\],.;:!?]+$/g;
const CODE_LIKE = /```|^\s{2,}\S|[;{]\s*$|\bdef |\bfunction |\bimport |\breturn |=>|\bconst |\bclass |\{\s*"|":\s*[[{"\d]/m;

function oddToken(t: string): boolean {
  const core = t.replace(EDGE_PUNCT, '');
  if (core.length === 0) return t.length >= 2 && /[^\p{L}\p{N}_\s.,!?'"-]{2,}/u.test(t);
  if (/[A-Za-z]/.test(core) && ODD_SYMBOL.test(core)) return true;
  if (CAMEL.test(core) && !CAMEL_OK.test(core)) return true;
  if (/[^\p{L}\p{N}_\s'",.!?-]{2,}/u.test(t) || /[)\]}]{2,}|[([{]{2,}/.test(t)) return true;
  return false;
}

/**
 * 0..1: how much the tail of the text looks like optimized adversarial token salad
 * (symbols glued inside words, camelCase fragments, bracket runs) after a prose request.
 * `text` must keep its case (use the Unicode-cleaned raw text, not the case-folded one).
 */
export function gibberishSuffix(text: string): number {
  if (text.length < 40) return 0;
  if (CODE_LIKE.test(text)) return 0;
  const tail = text.length > 600 ? text.slice(-600) : text;
  const toks = tail.split(/\s+/).filter((t) => t.length > 0).slice(-40);
  if (toks.length < 10) return 0;
  const odd = toks.map(oddToken);
  let best = 0;
  for (let i = 0; i + 10 <= odd.length; i++) {
    let c = 0;
    for (let j = i; j < i + 10; j++) if (odd[j]) c++;
    if (c > best) best = c;
  }
  let last20 = 0;
  for (let j = Math.max(0, odd.length - 20); j < odd.length; j++) if (odd[j]) last20++;
  return Math.min(1, Math.max(best / 10, last20 / 20));
}

const FUNCTION_WORDS = new Set(
  ('the a an of to in on for with and or but is are was were be been it this that these those you your i me my we our they ' +
    'their he she his her as at by from about into how what why when where which who can could would should will do does did ' +
    'not no so if then than there here all any some more most very just also please write give make tell explain')
    .split(' '),
);

/**
 * Statistics of the last ~24 whitespace tokens of the case-kept text (adversarial suffixes are
 * token salad): share of common function words, of tokens mixing letters with symbols or odd
 * capitalisation, and of bracket / quote / symbol characters.
 */
export function tailStats(text: string): { fn: number; odd: number; sym: number } {
  const tail = text.length > 400 ? text.slice(-400) : text;
  const toks = tail.split(/\s+/).filter((t) => t.length > 0).slice(-24);
  if (toks.length < 8) return { fn: 1, odd: 0, sym: 0 };
  let fn = 0;
  let odd = 0;
  let sym = 0;
  let chars = 0;
  for (const t of toks) {
    const w = t.toLowerCase().replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
    if (FUNCTION_WORDS.has(w)) fn++;
    if (/[a-z][^a-z\s'.,!?-]+[a-z]|[a-z][A-Z]|^[^A-Za-z0-9]{2,}$/.test(t)) odd++;
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      chars++;
      if (c === 40 || c === 41 || c === 91 || c === 93 || c === 123 || c === 125 || c === 60 || c === 62 || c === 96 || c === 92 || c === 124 || c === 64 || c === 94 || c === 126 || c === 61) sym++;
    }
  }
  return { fn: fn / toks.length, odd: odd / toks.length, sym: chars > 0 ? sym / chars : 0 };
}
