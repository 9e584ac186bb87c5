// logcheck's section heading underline: "=-=-..." as long as the title. Used by
// the mail body and by --test-rules, which must print logcheck's report.

export function sectionUnderline(title: string): string {
  return "=-".repeat(Math.ceil(title.length / 2)).slice(0, title.length);
}
