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

# --- generated: do not edit ---------------------------------------------------------
# The gate of each pattern above (``triggers/changelog.py``): the lower-case strings one
# of which every match contains, derived from the pattern's parse tree and stored so a
# process need not derive them. Keyed by a hash of the pattern: an edited pattern finds no
# entry and has its gate derived at first use, so this can be stale but never wrong;
# tests/test_classifier_identity.py prints the fresh table when it is.
GATES: dict[str, tuple[str, ...] | None] = {
    '859310d2af38': ('bug', 'bump', 'chore', 'clarified', 'clarifies', 'clarify', 'deps',
                     'doc', 'fix', 'refactor', 'resolved a issue', 'resolved a problem',
                     'resolved a regression', 'resolved an issue', 'resolved an problem',
                     'resolved an regression', 'resolved issue', 'resolved problem',
                     'resolved regression', 'resolved the issue', 'resolved the problem',
                     'resolved the regression', 'revert', 'typo', 'update dependenc',
                     'updated dependenc'),
    '206d73c9c1ae': ('build', 'ci', 'perf', 'style', 'test'),
    'ec63a56d6fe1': ('added', 'clarified', 'corrected', 'expanded', 'improve', 'new', 'update'),
    'e3724afbec36': ('bump', 'correct', 'fix', 'typo', 'update dependencies', 'update deps'),
    '1f49500bf654': ('no change for', 'no change on', 'no change to', 'no changes for',
                     'no changes on', 'no changes to', 'no impact for', 'no impact on',
                     'no impact to', 'not change for', 'not change on', 'not change to',
                     'not changes for', 'not changes on', 'not changes to', 'not impact for',
                     'not impact on', 'not impact to', 'without change for',
                     'without change on', 'without change to', 'without changes for',
                     'without changes on', 'without changes to', 'without impact for',
                     'without impact on', 'without impact to'),
    'b596838cc282': ('gpt',),
    'd914069ff3cb': ('o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'o8', 'o9'),
    'b0715ec6f22f': ('claude',),
    'b6c6b3811e0a': ('haiku ', 'haiku-', 'opus ', 'opus-', 'sonnet ', 'sonnet-'),
    'b3aa909892cd': ('gemini',),
    'ae0fcaad224d': ('gemma',),
    'fb5ae1255307': ('llama',),
    '114fb2fd2a6e': ('codestral', 'devstral', 'magistral', 'ministral', 'mistral', 'mixtral',
                     'pixtral'),
    '4c5de5e704b9': ('command a', 'command light', 'command r', 'command-a', 'command-light',
                     'command-r'),
    '6aa4fac9803e': ('chirp', 'dall-e', 'dalle', 'imagen', 'sora', 'veo'),
    'c1f1aea12746': ('text-embedding-', 'tts-1', 'whisper-'),
    '1bab8715dc1e': ('embed-',),
    '99e1d5e288b5': ('deepseek', 'falcon', 'glm', 'granite', 'grok', 'jamba', 'kimi',
                     'nemotron', 'nova', 'olmo', 'phi', 'qwen', 'sonar', 'titan'),
    '239713667144': ('-audio', '-base', '-chat', '-coder', '-embed', '-fast', '-flash',
                     '-instant', '-instruct', '-large', '-lite', '-max', '-medium', '-mini',
                     '-nano', '-omni', '-plus', '-preview', '-pro', '-realtime', '-reasoner',
                     '-reasoning', '-small', '-thinking', '-turbo', '-ultra', '-vision', '-xl'),
    'ae76829e1cca': ('announc', 'introduc', 'launch', 'releas', 'unveil'),
    '8803709fb9c1': ('model',),
    '1ff5337f2420': ('model',),
    '9fd0e58f3d21': ('model',),
    '7149bfd30ff2': ('model',),
    'ae75e0bb4ede': ('add', 'alias', 'announc', 'available for', 'available in',
                     'available now', 'available on', 'available to', 'available via',
                     'broadly available', 'debut', 'decommission', 'default', 'deprecat',
                     'discontinu', 'end of life', 'end of-life', 'end-of life', 'end-of-life',
                     'eol', 'ga', 'general availability', 'generally available', 'in beta',
                     'in preview', 'into beta', 'into preview', 'introduc', 'launch', 'migrat',
                     'new', 'no longer available', 'no longer be available',
                     'no longer be offered', 'no longer offered', 'now available',
                     'now powered', 'now runs', 'now serves', 'now uses', 'point to',
                     'points to', 'powered by', 'public beta', 'public preview',
                     'publicly available', 'releas', 'remov', 'replac', 'research beta',
                     'research preview', 'retir', 'roll out', 'rolled out', 'rolling out',
                     'rolls out', 'ship', 'shut down', 'shutdown', 'shuts down', 'shutsdown',
                     'shutting down', 'shuttingdown', 'snapshot', 'successor', 'sunset',
                     'support', 'switch', 'unveil', 'updat', 'upgrad'),
    '0bb560d85b04': ('base model', 'decommission', 'default', 'deprecat', 'discontinu',
                     'end of life', 'end of-life', 'end-of life', 'end-of-life', 'no longer',
                     'now uses', 'point to', 'points to', 'powered by', 'remov', 'replac',
                     'retir', 'shut down', 'shutdown', 'shuts down', 'shutsdown',
                     'shutting down', 'shuttingdown', 'sunset', 'switch', 'underlying'),
    '21864ad4cc13': ('announc', 'decommission', 'default', 'deprecat', 'discontinu',
                     'generally available', 'introduc', 'launch', 'now available', 'releas',
                     'replac', 'retir', 'shut down', 'shutdown', 'shuts down', 'shutsdown',
                     'shutting down', 'shuttingdown', 'sunset'),
    'dcc41f2266d6': ('billing', 'cost', 'discount', 'price', 'pricing', 'quota', 'rate limit',
                     'rate-limit'),
    'f932e90d0ffc': ('model',),
    '3b6fc21559a0': ('base model', 'default model', 'knowledge cut-off', 'knowledge cutoff',
                     'underlying model'),
    '02a0e4775973': ('model alias', 'model deprecation', 'model release', 'model retirement',
                     'model snapshot', 'model switch', 'model update', 'model upgrade',
                     'model version'),
    'ca1841b6f88b': ('model',),
    '9f2b2c2dc0cd': ('model',),
    '03abd198838c': ('function call', 'function-call', 'function_call'),
    'e755be8d45b2': ('built-in tool', 'client tool', 'custom tool', 'parallel tool',
                     'parallel-tool', 'parallel_tool', 'server tool', 'tool call',
                     'tool choice', 'tool search', 'tool support', 'tool use', 'tool-call',
                     'tool-choice', 'tool-search', 'tool-use', 'tool_call', 'tool_choice',
                     'tool_search', 'tool_use', 'toolcall', 'toolchoice', 'tools support',
                     'toolsearch', 'tooluse', 'use tools'),
    '6bd43d66adf9': ('analyse image', 'analyze image', 'attach image', 'image analysis',
                     'image as input', 'image input', 'image recognition',
                     'image understanding', 'image upload', 'images as input', 'multi-modal',
                     'multimodal', 'read image', 'see image', 'send image', 'understand image',
                     'upload image', 'vision'),
    '7ae7430e4822': ('create image', 'generat', 'image creation', 'image editing',
                     'image output', 'text to image', 'text to-image', 'text-to image',
                     'text-to-image'),
    '8f254f25f817': ('audio ', 'real-time api', 'real-time audio', 'real-time voice',
                     'realtime api', 'realtime audio', 'realtime voice', 'speech recognition',
                     'speech synthesis', 'speech to speech', 'speech to text',
                     'speech to-speech', 'speech to-text', 'speech-to speech',
                     'speech-to text', 'speech-to-speech', 'speech-to-text', 'text to speech',
                     'text to-speech', 'text-to speech', 'text-to-speech', 'transcription',
                     'voice agent', 'voice chat', 'voice conversation', 'voice input',
                     'voice interaction', 'voice mode', 'voice output'),
    'b1aa9de498be': ('analyse video', 'analyze video', 'generate video', 'understand video',
                     'video analysis', 'video generation', 'video input', 'video support',
                     'video understanding'),
    '977de77075dc': ('browse internet', 'browse the internet', 'browse the web', 'browse web',
                     'browsing', 'grounding with google search', 'grounding with search',
                     'internet access', 'live search', 'real-time search', 'realtime search',
                     'search grounding', 'search the internet', 'search the web', 'web access',
                     'web fetch', 'web search'),
    '4ab1104f5f7a': ('agent', 'assistant api', 'assistants api', 'background tasks',
                     'browser use', 'computer use', 'deep research'),
    'e827a04d2cb2': ('custom model', 'distillation', 'fine tun', 'fine-tun', 'finetun',
                     'lora adapter', 'model customisation', 'model customization'),
    '6f84c9519c83': ('memories', 'memory'),
    '04d9564807c5': ('code execution', 'code interpreter', 'execute code', 'executes code',
                     'executing code', 'python sandbox', 'python tool', 'run code',
                     'running code', 'runs code'),
    'e30a0665fb00': ('citations', 'document analysis', 'document input', 'document support',
                     'document understanding', 'document upload', 'documents analysis',
                     'documents input', 'documents support', 'documents understanding',
                     'documents upload', 'file analysis', 'file input', 'file search',
                     'file support', 'file understanding', 'file upload', 'files analysis',
                     'files api', 'files input', 'files support', 'files understanding',
                     'files upload', 'pdf analysis', 'pdf input', 'pdf support',
                     'pdf understanding', 'pdf upload', 'pdfs analysis', 'pdfs input',
                     'pdfs support', 'pdfs understanding', 'pdfs upload',
                     'retrieval augmented', 'retrieval tool', 'upload documents',
                     'upload files', 'upload pdfs'),
    '93009b497968': ('json mode', 'json schema mode', 'json schema support',
                     'structured output'),
    '38de413ed742': ('api', 'endpoint', 'new'),
    '03945c26189c': ('connector', 'mcp', 'model context protocol', 'plugin'),
    '25a892ae2098': ('context length', 'context window', 'k token context', 'k-token context',
                     'm token context', 'm-token context'),
    'd08bb71436da': ('extended thinking', 'reasoning ', 'thinking mode'),
    'b144446d7b9c': ('add', 'announc', 'available for', 'available in', 'available on',
                     'available to', 'bring', 'can accept', 'can access', 'can analyse',
                     'can analyze', 'can browse', 'can call', 'can create', 'can execute',
                     'can generate', 'can handle', 'can hear', 'can invoke', 'can listen',
                     'can process', 'can read', 'can remember', 'can run', 'can search',
                     'can see', 'can speak', 'can take', 'can understand', 'can use',
                     'can watch', 'debut', 'enabl', 'expand', 'extend', 'general availability',
                     'generally available', 'in alpha', 'in beta', 'in preview', 'increas',
                     'into alpha', 'into beta', 'into preview', 'introduc', 'launch',
                     'limited alpha', 'limited beta', 'limited preview', 'new', 'now',
                     'open alpha', 'open beta', 'open preview', 'private alpha',
                     'private beta', 'private preview', 'public alpha', 'public beta',
                     'public preview', 'releas', 'research alpha', 'research beta',
                     'research preview', 'roll out', 'rolled out', 'rolling out', 'rolls out',
                     'ship', 'support for', 'supported for', 'supports for', 'unlock',
                     'unveil'),
    'a3284b5a6106': ('develop', 'improv', 'train'),
    '92bb8bfb2128': ('improv', 'train'),
    'e4bdba6d88eb': ('data retention', 'delet', 'kept', 'logged', 'no data-retention',
                     'no-data-retention', 'purg', 'retain', 'retention ', 'stored', 'zdr',
                     'zero data-retention', 'zero-data-retention'),
    'a5a5ceb2245a': ('data control', 'data sharing', 'data usage', 'data use', 'training data'),
    '3b5692820e89': ('api terms', 'business terms', 'commercial terms', 'consumer terms',
                     'developer terms', 'enterprise terms', 'platform terms', 'service terms',
                     'terms and conditions', 'terms of service', 'terms of use'),
    '66be64f245b2': ('acceptable use policies', 'acceptable use policy', 'content policies',
                     'content policy', 'model use policies', 'model use policy',
                     'safety policies', 'safety policy', 'usage and sharing policies',
                     'usage and sharing policy', 'usage policies', 'usage policy'),
    '69b412d3c78a': ('privacy notice', 'privacy policy', 'privacy statement'),
    'cee2f8628715': ('data processing addendum', 'data processing agreement', 'dpa'),
    '167d9041e72f': ('service level agreement', 'sla'),
    '7e696bce83e2': ('governance polic', 'responsible ai policies', 'responsible ai policy',
                     'responsible scaling policies', 'responsible scaling policy'),
    '19800459ebd6': ('add', 'amend', 'chang', 'effective', 'introduc', 'modif', 'new',
                     'publish', 'releas', 'remov', 'replac', 'revis', 'updat', 'will apply',
                     'will take effect'),
}
