// A module that sorts by locale, for the bundle guard's test (test/scripts/code-unit-sorts.test.ts).
export function registerLocaleSort (names: string[]): string[] {
  return names.sort((a, b) => a.localeCompare(b))
}
