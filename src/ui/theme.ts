// Whether the page is dark now: the Theme choice, or the system's when it is "system".

import { useEffect, useState } from 'react';
import { useAppStore } from '../state/hooks';

const QUERY = '(prefers-color-scheme: dark)';

export function useDarkMode(): boolean {
  const theme = useAppStore((s) => s.theme);
  const [systemDark, setSystemDark] = useState(() => typeof matchMedia === 'function' && matchMedia(QUERY).matches);
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const media = matchMedia(QUERY);
    const onChange = () => setSystemDark(media.matches);
    onChange();
    media.addEventListener('change', onChange);
    return () => media.removeEventListener('change', onChange);
  }, []);
  return theme === 'dark' || (theme === 'system' && systemDark);
}
