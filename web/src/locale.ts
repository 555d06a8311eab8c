/**
 * The locale the page formats in: the browser's when Intl accepts it, else that tag without its
 * `@…` part, else en-US. A browser started under LANG=C.UTF-8 reports `en-US@posix`, which every
 * Intl constructor refuses with a RangeError, and uPlot formats with navigator.language as soon as
 * it loads: so the accepted tag is also put on navigator, and main.ts imports this module first.
 */
function accepted(tag: string | undefined): string | null {
  if (!tag) return null;
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? null;
  } catch {
    return null;
  }
}

export const LOCALE = accepted(navigator.language) ?? accepted(navigator.language?.split('@')[0]) ?? 'en-US';

if (navigator.language !== LOCALE) Object.defineProperty(navigator, 'language', { value: LOCALE, configurable: true });
