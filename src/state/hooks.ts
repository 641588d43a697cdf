// React access to the store: narrow selectors only (zustand 5 re-renders when the selected value
// changes by Object.is, so select stable pieces and derive lists with useMemo in the component).

import { useStore } from 'zustand';
import { appStore } from './store';
import type { AppState } from './store';

export function useAppStore<T>(selector: (state: AppState) => T): T {
  return useStore(appStore, selector);
}
