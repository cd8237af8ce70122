/**
 * Documents with planted instructions (indirect injection): structure signals for text that embeds
 * an email, table, page or code for the model to process, counting request and directive lines
 * inside the embedded data. Input is the line-preserving normalized text (see normalize.ts).
 */

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
