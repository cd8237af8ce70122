/**
 * Strong-family rules (SECURITY-RULES G-7.3): override, exfiltration, persona, role spoofing and
 * indirect injection, with the weak rules that belong to those families. Applied to normalized
 * text (see normalize.ts: lower case, confusables folded, whitespace collapsed).
 *
 * Every pattern is linear-time safe: word gaps are bounded and written as alternations of
 * disjoint classes (`(?:\W+\w+){0,n}`), never nested unbounded quantifiers over overlapping classes.
 *
 * Row order is part of the trained model's contract: see rule-table.ts.
 */

import { gap, rule as r, type Rule } from './rule-def.js';

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

// ----- persona ----------------------------------------------------------------------------------
const AI = '(?:ai|a\\.i\\.|chatbot|chat bot|chatgpt|gpt(?:-?\\d)?|assistant|ai assistant|language model|llm|bot|agent|claude|gemini|copilot|model)';
const LIMITS =
  '(?:restrictions?|filters?|filtering|guidelines|limitations|limits|censorship|rules|boundaries|ethics|morals|morality|polic(?:y|ies)|principles|safeguards|constraints|ethical (?:\\w+ )?(?:guidelines|constraints|concerns)|moral (?:\\w+ )?(?:guidelines|constraints|concerns))';

// ----- the same families in Spanish, French, German, Portuguese and Italian ---------------------
// (normalized text: lower case, accents stripped, so `précédentes` is `precedentes`)
const ML_OV_VERB =
  '(?:ignora|ignorar|ignore[sz]?|ignorer|ignoriere|ignorier|olvida|olvidar|olvide|omite|omitir|descarta|descartar|oublie[rz]?|neglige[rz]?|vergiss|vergesst|vergessen sie|missachte|uberspringe|verwirf|esqueca|esquece|esquecer|desconsidere|desconsidera|dimentica|dimenticare|trascura)';
const ML_OV_OBJ =
  '(?:instrucciones|reglas|indicaciones|ordenes|directrices|instructions|consignes|regles|directives|ordres|anweisungen|instruktionen|regeln|befehle|vorgaben|richtlinien|instrucoes|regras|orientacoes|diretrizes|ordens|istruzioni|regole|indicazioni|direttive)';
const ML_OV_SCOPE =
  '(?:anteriores|previas|precedentes|de arriba|iniciales|originales|anterieures|ci-dessus|initiales|d\'origine|vorherigen|bisherigen|vorangegangenen|obigen|fruheren|ursprunglichen|alten|acima|iniciais|originais|precedenti|sopra|iniziali|originali)';
const ML_EX_VERB =
  '(?:muestra|muestrame|revela|revelame|dime|imprime|repite|escribe|montre|montre-moi|montrez|revele[rz]?|affiche[rz]?|repete[rz]?|ecris|zeige|zeig|gib|wiederhole|verrate|schreibe|mostra|mostre|mostrami|repita|rivela|ripeti|stampa|scrivi)';
const ML_EX_TARGET =
  '(?:(?:prompt|mensaje|message|instrucciones|instructions|instrucoes|istruzioni)\\W+(?:del|de|du|do|di)\\W+(?:sistema|systeme)|prompt\\W+(?:systeme|sistema)|system-?prompt|systemanweisungen|instrucciones\\W+(?:ocultas|secretas|iniciales)|instructions\\W+(?:cachees|secretes|initiales)|(?:versteckten|geheimen|ursprunglichen)\\W+anweisungen|instrucoes\\W+(?:ocultas|secretas|iniciais)|istruzioni\\W+(?:nascoste|segrete|iniziali))';

export const ATTACK_RULES: readonly Rule[] = [
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
  // `[^\S\n]*`, not `\s*`: after each line break `\s*` re-read every following blank line (quadratic
  // on a run of newlines, found by npm run bench:regex); a match exists exactly when it did.
  r('role-spoof.markdown-role', 'role-spoof', false, `(?:^|\\n)[^\\S\\n]*#{2,4}\\s*(?:instruction|system|new instructions?|response|input)\\b|\\b(?:human|user|assistant|ai|system)\\s*:`),

  // indirect injection (addressed to the AI that processes a document)
  // `[^\S\n]*` after the opening punctuation, as in markdown-role: `\s*` re-read every following
  // line break from each one (quadratic on a run of newlines, found by npm run bench:regex).
  r('indirect.address-ai', 'indirect', true, `(?:^|[\\n.!?:>"(][^\\S\\n]*|\\b(?:hey|hi|hello|dear|attention|note to|message to|instructions? (?:for|to))\\W+)(?:the\\W+)?(?:ai|a\\.i\\.|ai assistant|assistant|chatbot|language model|llm|gpt|chatgpt|claude|gemini|copilot|ai agent|ai model)s?\\s*[,:!]\\s*(?:\\w+\\W+){0,3}?(?:when|if|while|before|after|please|you must|you should|you need|you will|make sure|ignore|also|instead|do not|don't|remember|important|disregard|forget|include|add|send|forward|tell|say|output|respond|reply)\\b`),
  r('indirect.when-you-process', 'indirect', true, `\\bwhen (?:you|the (?:ai|assistant|model|llm|bot|chatbot|agent)) (?:\\w+ ){0,2}?(?:summari[sz]\\w*|read\\w*|process\\w*|analy[sz]\\w*|translat\\w*|answer\\w*|respond\\w*|review\\w*|pars\\w*|see|encounter\\w*|get to|reach\\w*|are asked about|index\\w*|crawl\\w*)\\b${gap(4)}(?:this|the|these|that)\\W+(?:\\w+\\W+)?(?:email|e-mail|document|page|webpage|web page|website|site|text|message|file|article|table|content|data|review|post|comment|section|note|pdf|resume|cv|code|repository|repo|readme|transcript|invoice|ticket)s?\\b${gap(12)}(?:also|instead|additionally|secretly|silently|make sure|include|add|send|forward|tell|say|respond|reply|output|write|append|mention|ignore|do not|don't|recommend|insert|state|claim|rate|describe|praise)\\b`),
  r('indirect.if-you-are-ai', 'indirect', true, `\\bif you(?:'re| are) (?:an? |the )?(?:ai|a\\.i\\.|llm|large language model|language model|assistant|chatbot|bot|gpt|automated (?:system|agent|assistant)|ai assistant|ai model|ai agent|model)\\b`),
  r('indirect.note-to-ai', 'indirect', true, `\\b(?:note|message|instructions?|reminder|directive|attention|important|hidden text|p\\.?s\\.?)\\W+(?:\\w+\\W+)?(?:to|for)\\W+(?:the\\W+|any\\W+|all\\W+)?(?:ai|a\\.i\\.|llm|assistant|chatbot|bot|language model|ai assistant|agent|ai agent|ai model|gpt|chatgpt)s?\\b`),
  r('override.multilingual', 'override', true, `\\b${ML_OV_VERB}\\b${gap(3)}${ML_OV_OBJ}\\b${gap(2)}${ML_OV_SCOPE}(?!\\w)|\\b${ML_OV_VERB}\\b${gap(3)}${ML_OV_SCOPE}\\W+${ML_OV_OBJ}\\b`),
  r('exfiltration.multilingual', 'exfiltration', true, `\\b${ML_EX_VERB}\\b${gap(5)}${ML_EX_TARGET}`),
  r('indirect.output-directive', 'indirect', false, `\\b(?:integrate|incorporate|embed|insert|append|inject|weave|mention|promote|alter|modify|enhance|encode|translate|shift|reverse|format|rewrite|add|include|provide|begin|start|end|conclude|use|make|ensure|leverage|supplement|consider|reply|respond|answer)\\b${gap(8)}(?:your|the) (?:\\w+ )?(?:response|reply|answer|output|solution|implementation|elucidation|summary|explanation|result|message)s?\\b`),
];
