// Recognizes file names that mark a copy of another file ("x (copy).mkv", "Copy of x.mkv", "x (1).mkv", ...) (pure).
//
// The markers (case-insensitive unless said, on the name without its extension — the last `.ext` of 1–5 letters or digits):
//   prefix "copy of " or "copy (N) of "          (Windows Explorer, older)
//   suffix " (copy)", " (copy N)", "_copy"        (file managers)
//   suffix " - copy", " - copy (N)"               (Windows Explorer)
//   suffix " copy", " copy N", lower case only    (macOS Finder; "The Copy.mkv" is a title)
//   suffix "(N)", N of 1–2 digits, with or without a space (browsers, "x (1).mkv"; "Movie (2019).mkv" is a year)
//   suffix ".N" with one digit                    ("x.1.mkv"; a year such as "x.2019.mkv" is no marker)
// and a whole name ending ".ext.N" ("x.mkv.1", wget). Dedupe prefers a keeper whose name has none of them.

const STEM_MARKERS: readonly RegExp[] = [
  /^copy (?:\(\d+\) )?of /i,
  / \(copy(?: \d+)?\)$/i,
  /_copy$/i,
  / - copy(?: \(\d+\))?$/i,
  / copy(?: \d+)?$/,
  / ?\(\d{1,2}\)$/,
  /\.\d$/,
];

/** True when a file name (a basename) carries a copy marker. */
export function hasCopyMarker(name: string): boolean {
  if (/\.[A-Za-z0-9]{1,5}\.\d+$/.test(name)) return true;
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 && /^[A-Za-z0-9]{1,5}$/.test(name.slice(dot + 1)) ? name.slice(0, dot) : name;
  return STEM_MARKERS.some((re) => re.test(stem));
}
