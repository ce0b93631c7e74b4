import { MemoryBudgetStore } from '#budget';
import { budgetStoreConformance } from './budget-store.conformance.js';
import { FakeDailyCostSource, type StoreHarness } from './budget-store.harness.js';

budgetStoreConformance('MemoryBudgetStore', () => {
  const source = new FakeDailyCostSource();
  let offset = 0;
  // Real time plus what the test moved, like Redis TIME plus the test offset.
  const clock = (): number => Date.now() + offset;
  let store = new MemoryBudgetStore(source, clock);
  const harness: StoreHarness = {
    get store() {
      return store;
    },
    source,
    advance: (ms) => {
      offset += ms;
    },
    restart: () => {
      store = new MemoryBudgetStore(source, clock);
      return Promise.resolve();
    },
    // One process, one store: "other instances" are the same store called concurrently.
    peers: (count) => Promise.resolve(Array.from({ length: count }, () => store)),
    close: () => store.close(),
  };
  return Promise.resolve(harness);
});
