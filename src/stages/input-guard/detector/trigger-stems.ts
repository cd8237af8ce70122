/**
 * Pre-filter table: trigger stems every match of a rule necessarily contains (speed only).
 * Each entry lists groups; a rule runs when every group has a stem present (a word starting with
 * it, at a `\b` boundary like in the rule itself) or a `=literal` substring present.
 * Keep in sync with the patterns in attack-rules.ts and cue-rules.ts: a missing stem would silently
 * disable a rule (detector tests compare results with and without the pre-filter).
 */

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

export const RULE_NEEDS: Readonly<Record<string, readonly (readonly string[])[]>> = {
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
  'override.multilingual': [
    ['ignor', 'olvid', 'omit', 'descart', 'oubli', 'neglig', 'vergiss', 'vergesst', 'vergessen', 'missacht', 'ubersp', 'verwirf', 'esquec', 'desconsider', 'dimentic', 'trascur'],
    ['instruc', 'regl', 'indicac', 'orden', 'directri', 'consign', 'regle', 'direct', 'ordre', 'anweisung', 'instruktion', 'regeln', 'befehl', 'vorgab', 'richtlini', 'regra', 'orienta', 'diretri', 'istruzion', 'regol', 'indicazion', 'dirett'],
  ],
  'exfiltration.multilingual': [
    ['muestra', 'revel', 'dime', 'imprim', 'repit', 'escrib', 'montr', 'affich', 'repet', 'ecris', 'zeig', 'gib', 'wiederhol', 'verrat', 'schreib', 'mostr', 'rivel', 'ripet', 'stampa', 'scriv'],
    ['prompt', 'mensaje', 'message', 'instruc', 'istruzion', 'system', 'versteckt', 'geheim', 'ursprungl'],
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
