"""Built-in patterns of the changelog classifier (``triggers/changelog.py``), as data.

Each is a case-insensitive regex (``(?-i:…)`` where case matters). ``CAPABILITIES``,
``TRAINING_DATA`` and ``POLICY_TERMS`` map the entity label a match reports to its regex;
a source's ``classify`` option adds its own patterns to these.
"""

from __future__ import annotations

SKIP: tuple[str, ...] = (
    r"^\W*(?:[\w/.()-]+:\s+)?(fix(e[ds])?|fixing|bug\s*fix(es)?|bugfix(es)?|hotfix(es)?|"
    r"resolved (an? |the )?(issue|bug|problem|regression)|typos?|"
    r"correct(ed|s)? (a |the )?typo|docs?|documentation|chore|refactor(ed)?|"
    r"revert(ed|s)?|bump(ed|s)?|deps|document(s|ed)?|clarif(y|ies|ied)|"
    r"updated? dependenc\w*)\b",
    r"^\W*(test|tests|ci|build|style|perf)(\([^)]*\))?!?:",
    r"^\W*(updated?|improved?|clarified|corrected|expanded|added|new)\s+(the\s+|a\s+|an\s+)?"
    r"(docs?|documentation|readme|examples?|guides?|tutorials?|typos?|comments?|changelog|"
    r"tests?|code samples?)\b",
    r"^\W*(feat|fix|docs|chore|refactor|test|ci|build|style|perf|revert)(\([^)]*\))?!?:\s*"
    r"(fix|correct|typo|bump|update (deps|dependencies))",
    r"\b(no|not|without) (changes?|impact) (to|on|for)\b",
)

# "model" as a UI or API noun, not a model: "model selector", "model parameter".
_NOT_UI = (r"(?!\s*(parameters?|fields?|lists?|selectors?|pickers?|dropdowns?|names?|ids?|"
           r"options?|menus?|settings?|badges?|enums?|types?|choices? (ui|menu)))")
MODEL_NAMES: tuple[str, ...] = (
    r"\b(?:chat)?gpt[- ]?\d[\w.]*(?:-(?:turbo|mini|nano|pro|preview|latest|instruct|audio|"
    r"realtime|vision|search|transcribe|tts|codex|oss|\d{4}(?:-\d\d){0,2}|\d+k|\d+b)|"
    r" (?:mini|nano|turbo|pro)\b)*",
    r"(?-i:(?<![\w-])o[1-9](?:-(?:mini|pro|preview|high|low|deep-research|\d{4}-\d\d-\d\d))*"
    r"(?![\w-]))",
    r"\bclaude(?:[- ](?:instant|opus|sonnet|haiku|\d+(?:[.-]\d+)?(?:-\d{8})?|v\d|latest))+",
    r"\b(?:opus|sonnet|haiku)[- ]\d+(?:\.\d+)?\b",
    r"\bgemini(?:[- ](?:\d+(?:\.\d+)?|pro|flash|ultra|nano|lite|exp(?:erimental)?|preview|"
    r"thinking|live|image|\d\d-\d\d))+",
    r"\bgemma[- ]?\d+[\w.-]*",
    r"\b(?:code)?llama[- ]?\d+(?:\.\d+)?(?:[- ](?:\d+b|instruct|chat|vision|scout|maverick))*",
    r"\b(?:mistral|mixtral|codestral|pixtral|ministral|magistral|devstral)(?:[- ](?:large|"
    r"medium|small|tiny|nemo|saba|embed|ocr|\d+(?:\.\d+)?|\d+x\d+b|latest))+",
    r"\bcommand[- ](?:r\+?|r[- ]plus|a|light)(?:[- ](?:\d\d-\d{4}|\d+b|plus|vision))*\b",
    r"\b(?:dall-?e|imagen|sora|veo|chirp)[- ]?\d+(?:\.\d+)?\b",
    r"\bwhisper(?:-1|-large[\w-]*)\b|\btts-1(?:-hd)?\b|\btext-embedding-[\w.-]+",
    r"\bembed-(?:english|multilingual|v\d)[\w.-]*",
    r"\b(?:grok|phi|qwen|deepseek|jamba|nova|titan|sonar|kimi|glm|falcon|olmo|granite|"
    r"nemotron)[- ]?(?:[vr]?\d+(?:\.\d+)?)(?:[- ](?:\d+b|[a-z]+\d*))?\b",
    r"\b[a-z][a-z0-9]*(?:-[a-z0-9.]+)*-(?:large|medium|small|mini|nano|pro|flash|lite|turbo|"
    r"ultra|instruct|chat|base|preview|xl|max|plus|fast|reasoning|vision|embed|embedding|audio|"
    r"realtime|omni|instant|coder|thinking|reasoner)(?:-[a-z0-9.]+)*\b",
    r"\b(?:introduc\w*|releas\w*|launch\w*|announc\w*|unveil\w*)\s+[`\"'“]?"
    r"(?P<name>[a-z][\w.]*-[\w.-]*\d[\w.-]*)",
    r"\bmodels?\s+(?:named\s+|called\s+)?[`\"'“]?(?P<name>[a-z][\w.:/-]*\d[\w.:/-]*)",
    r"(?P<name>\b[a-z][\w.:/]*-[\w.:/-]*\d[\w.:/-]*)[`\"'”]?\s+models?\b",
    r"\b(?:adds?|added|introduc\w*|launch\w*|releas\w*|new)\s+(?:(?:the|a|an|new|our)\s+)*"
    rf"[`\"']?(?P<name>[a-z][\w.]*-[\w.-]+)[`\"']?\s+(?:\w+\s+)?models?\b{_NOT_UI}",
    r"(?-i:\b(?:adds?|added|introduc\w*|launch\w*|releas\w*|new)\s+(?:(?:the|a|an|new|our)\s+)*"
    rf"(?P<name>[A-Z][\w.-]*[A-Za-z0-9])\s+(?:[a-z]+\s+)?models?\b{_NOT_UI})",
)
MODEL_VERBS = (
    r"\b(releas\w*|launch\w*|introduc\w*|announc\w*|unveil\w*|debut\w*|ship(s|ped)?|"
    r"(now|generally|broadly|publicly) available|available (now|today|in|to|for|on|via)|"
    r"adds?|added|adding|new|ga|general availability|(in|into|public|research) (beta|preview)|"
    r"roll(s|ed|ing)? out|upgrad\w*|updat\w*|default|deprecat\w*|retir\w*|sunset\w*|"
    r"shut(s|ting)? ?down|decommission\w*|discontinu\w*|end[- ]of[- ]life|eol|replac\w*|"
    r"switch\w*|migrat\w*|snapshots?|alias\w*|points? to|now (uses|powered|runs|serves)|"
    r"powered by|successor|no longer (be )?(available|supported|offered)|remov\w*|"
    r"support for|supports?)\b")
MODEL_PHRASES: tuple[str, ...] = (
    r"\b(new|newer|latest|next[- ]gen\w*|upgraded|updated)\s+(?:[\w.-]+\s+){0,2}?models?\b"
    rf"{_NOT_UI}",
    r"\bdefault model\b|\bbase model\b|\bunderlying model\b|\bknowledge cut-?off\b",
    r"\bmodel (version|snapshot|upgrade|update|release|deprecation|retirement|alias|switch)s?\b",
    r"\b(deprecat|retir|sunset|decommission|discontinu)\w*\b.{0,80}\bmodels?\b",
    r"\bmodels?\b.{0,80}\b(deprecat\w*|retir\w*|sunset\w*|decommission\w*|discontinu\w*|"
    r"shut(ting)? ?down|end[- ]of[- ]life)",
)
MODEL_STRONG = (r"\b(releas\w*|launch\w*|introduc\w*|announc\w*|deprecat\w*|retir\w*|"
                r"sunset\w*|shut(s|ting)? ?down|decommission\w*|discontinu\w*|default|"
                r"(now|generally) available|replac\w*)\b")
# Prices and rate limits name models without changing them.
MODEL_WEAK_CONTEXT = r"\b(pric(e|es|ing)|rate[- ]limits?|quotas?|billing|discounts?|costs?)\b"
MODEL_HIGH = (r"\b(deprecat|retir|sunset|shut(s|ting)? ?down|decommission|discontinu|"
              r"end[- ]of[- ]life|default|replac|switch|no longer|remov|points? to|now uses|"
              r"powered by|underlying|base model)")

CAPABILITIES: dict[str, str] = {
    "function calling": r"\bfunction[-_ ]call\w*",
    "tool use": r"\btool[-_ ]?(use|calling|calls?|choice|search)\b|\bparallel[-_ ]tool|"
                r"\b(built-in|custom|server|client) tools?\b|\btools? support\b|\buse tools\b",
    "image input": r"\bimage (inputs?|understanding|analysis|recognition|uploads?)\b|"
                   r"\bvision\b|\bmulti-?modal\b|\bimages? as inputs?\b|"
                   r"\b(upload|attach|send|analy[sz]e|understand|see|read) images?\b",
    "image generation": r"\bimage (generation|creation|editing|outputs?)\b|"
                        r"\bgenerat\w* images?\b|\btext[- ]to[- ]image\b|\bcreate images?\b",
    "audio": r"\baudio (inputs?|outputs?|support|understanding|generation|mode|capabilit\w*)\b|"
             r"\bvoice (mode|inputs?|outputs?|chat|conversations?|interactions?|agents?)\b|"
             r"\bspeech[- ]to[- ](speech|text)\b|\btext[- ]to[- ]speech\b|"
             r"\breal-?time (api|audio|voice)\b|\btranscription\b|\bspeech (recognition|synthesis)",
    "video": r"\bvideo (inputs?|understanding|generation|analysis|support)\b|"
             r"\b(analy[sz]e|understand|generate) videos?\b",
    "web browsing": r"\b(web )?browsing\b|\bweb search\b|\bsearch the (web|internet)\b|"
                    r"\binternet access\b|\bbrowse (the )?(web|internet)\b|"
                    r"\b(real-?time|live) (web )?search\b|\bsearch grounding\b|"
                    r"\bgrounding with (google )?search\b|\bweb (access|fetch)\b",
    "agents": r"\bai agents?\b|\bagents? (sdk|api|builder|framework|mode|platform)\b|"
              r"\b(introduc\w*|launch\w*|releas\w*|new)\s+"
              r"(?:(?!support|human|live|user|customer|sales|service)[\w.-]+\s+){0,2}agents?\b|"
              r"\bbuild(ing)? (ai )?agents\b|"
              r"\bagentic\b|\bautonomous agents?\b|\bcomputer use\b|\bbrowser use\b|"
              r"\bassistants? api\b|\bdeep research\b|\bbackground (tasks|agents?)\b",
    "fine-tuning": r"\bfine[- ]?tun\w*|\bcustom models?\b|\bmodel customi[sz]ation\b|"
                   r"\bdistillation\b|\blora adapters?\b",
    "memory": r"(?<!in-)(?<!out of )(?<!gpu )(?<!low-)(?<!shared )\bmemor(y|ies)\b(?!\s*"
              r"(usage|leaks?|consumption|footprint|limits?|allocation|pressure|efficien\w*|"
              r"overhead|use|errors?|issues?|bloat|spikes?|growth|cache))",
    "code execution": r"\bcode (interpreter|execution)\b|\bexecut(e|es|ing) code\b|"
                      r"\brun(s|ning)? code\b|\bpython (tool|sandbox)\b",
    "file input": r"\b(pdf|file|document)s? (inputs?|support|uploads?|understanding|analysis)\b|"
                  r"\bfile search\b|\bupload (files|documents|pdfs)\b|\bfiles api\b|"
                  r"\bretrieval (tool|augmented)\b|\bcitations\b",
    "structured outputs": r"\bstructured outputs?\b|\bjson mode\b|\bjson schema (support|mode)",
    "new endpoint": r"\bnew\s+(?:[\w/`.-]+\s+){0,2}?(?:endpoints?|apis?)\b(?!\s*(keys?|"
                    r"versions?|docs?|reference|errors?|client))|"
                    r"\b(?:adds?|added|introduc\w*|launch\w*|releas\w*)\s+(?:(?:a|an|the)\s+)?"
                    r"(?:new\s+)?[`/\w.{}-]+\s+(?:endpoints?|api)\b|"
                    r"\b(?:batch|realtime|responses|files|assistants|embeddings|moderations?|"
                    r"evals?|vector stores?|uploads|webhooks?|admin|usage) api\b|"
                    r"\bendpoints?\b.{0,30}\b(now available|is available|launched|released)\b",
    "connectors": r"\bmcp\b|\bmodel context protocol\b|\bconnectors?\b|\bplugins?\b",
    "context window": r"\bcontext (window|length)\b|\b\d+\s?[km][- ]token context\b",
    "reasoning": r"\bextended thinking\b|\breasoning (mode|effort|summar\w*)\b|"
                 r"\bthinking mode\b",
}
CAPABILITY_VERBS = (
    r"\b(adds?|added|adding|introduc\w*|launch\w*|releas\w*|announc\w*|unveil\w*|new|"
    r"support(s|ed)? for|enabl\w*|general availability|generally available|"
    r"(in|into|public|private|research|open|limited) (beta|preview|alpha)|"
    r"roll(s|ed|ing)? out|expand\w*|extend\w*|increas\w*|bring\w*|unlock\w*|debut\w*|"
    r"ship(s|ped)?|now\s+(\w+\s+)?(supports?|supported|available|able|offers?|lets?|allows?|includes?|has|have|works?|"
    r"accepts?|handles?|generally|in (beta|preview|ga))|available (now|today|in|to|for|on)|"
    r"can (now )?(see|hear|browse|search|remember|call|use|generate|read|run|execute|watch|"
    r"listen|speak|analy[sz]e|create|process|understand|accept|take|handle|invoke|access))\b")

TRAINING_DATA: dict[str, str] = {
    "training on customer data":
        r"\b(train\w*|retrain\w*|improv\w* (our|the) models?)\b.{0,50}\b(on|with|using|from)\b"
        r".{0,40}\b(your|customers?'?|users?'?|business|enterprise|api|workspace|team|"
        r"organi[sz]ation|personal)\b.{0,30}\b(data|content|conversations|chats|inputs|prompts|"
        r"outputs|interactions|messages|files|code)\b|"
        r"\b(use[sd]?|using|shar(e|es|ed|ing))\b.{0,60}\b(data|content|conversations|chats|"
        r"inputs|prompts|outputs|interactions|messages)\b.{0,50}\b(to|for)\s+"
        r"(train\w*|improv\w*|develop\w*)\b",
    "training opt-out":
        r"\bopt(ed|s|ing)?[- ]?(out|in)\b.{0,80}\b(train\w*|model improvement|improv\w* (our|"
        r"the) models?)|\b(train\w*|model improvement)\b.{0,80}\bopt(ed|s|ing)?[- ]?(out|in)\b|"
        r"\bmodel improvement (program|setting|toggle|preference)",
    "data retention":
        r"\b(zero|no)[- ]data[- ]retention\b|\bzdr\b|\bdata retention\b|\bretention (period|"
        r"polic\w*|window|settings?|controls?)\b|\b(retain\w*|stored|kept|delet\w*|purg\w*|"
        r"logged)\b.{0,60}\b(for|after|up to|within)\s+(\d+|seven|thirty|sixty|ninety)\s*"
        r"(days?|months?|years?|hours?)\b",
    "data usage policy":
        r"\b(training data|data usage|data use|data sharing|data controls?)\s+(polic\w*|"
        r"settings?|controls?|opt[- ]?(out|in)|preferences?|terms)\b",
}
POLICY_TERMS: dict[str, str] = {
    "terms of service": r"\bterms (of (service|use)|and conditions)\b|\b(business|enterprise|"
                        r"commercial|service|api|platform|developer|consumer) terms\b",
    "usage policy": r"\b(usage|acceptable use|content|safety|model use|usage and sharing) "
                    r"polic(y|ies)\b",
    "privacy policy": r"\bprivacy (policy|notice|statement)\b",
    "data processing addendum": r"\bdata processing (addendum|agreement)\b|\bdpa\b",
    "service level agreement": r"\bservice level agreement\b|\bsla\b",
    "governance policy": r"\bresponsible (ai|scaling) polic(y|ies)\b|\bgovernance polic\w*",
}
POLICY_VERBS = (r"\b(updat\w*|chang\w*|revis\w*|amend\w*|new|introduc\w*|effective|"
                r"publish\w*|releas\w*|adds?|added|remov\w*|modif\w*|replac\w*|"
                r"will (apply|take effect))\b")

# Keep-a-Changelog style section headings lend their verb to the items below them; items
# under fix, chore and docs headings never classify.
SKIP_SECTIONS = (r"fixed|fixes|bug ?fixes|chores?|documentation|docs|dependencies|deps|"
                 r"tests?|build( system)?|ci|refactor\w*|internal|performance|style|"
                 r"miscellaneous chores|reverts?")
SECTION_VERBS: dict[str, str] = {
    r"added|new|new features?|features?|feat|what'?s new|highlights|introduced|launch(es|ed)?|"
    r"new models?|new capabilities": "Added",
    r"deprecated|deprecations?|upcoming deprecations?": "Deprecated",
    r"removed|retired|retirements?|sunset|end of life": "Removed",
}
