// Lists that page through cursors: awaited, a list is its first page;
// iterated with for await, it is every item of every page.
import type { Page } from "./types.js";

/**
 * The answer of a list method. `await list` gives one page (the first, or
 * the one at the `cursor` you passed); `for await (const item of list)`
 * walks every item from there on, fetching pages as it goes;
 * `for await (const page of list.pages())` walks the pages.
 */
export class PageList<T> implements PromiseLike<Page<T>>, AsyncIterable<T> {
  readonly #fetchPage: (cursor: string | undefined) => Promise<Page<T>>;
  readonly #cursor: string | undefined;
  #first: Promise<Page<T>> | undefined;

  /** @internal */
  constructor(fetchPage: (cursor: string | undefined) => Promise<Page<T>>, cursor: string | undefined) {
    this.#fetchPage = fetchPage;
    this.#cursor = cursor;
  }

  // The first page is fetched on first use, so a list that is only iterated
  // makes no extra request and leaves no unhandled rejection behind.
  then<R1 = Page<T>, R2 = never>(
    onFulfilled?: ((page: Page<T>) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.#first ??= this.#fetchPage(this.#cursor);
    return this.#first.then(onFulfilled, onRejected);
  }

  /** Every page from the starting cursor on, fetched one at a time. */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    let cursor = this.#cursor;
    for (;;) {
      const page = await this.#fetchPage(cursor);
      yield page;
      if (!page.nextCursor) return;
      cursor = page.nextCursor;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.items;
  }

  /** Every item from the starting cursor on, in one array; mind the size of what you list. */
  async toArray(): Promise<T[]> {
    const all: T[] = [];
    for await (const item of this) all.push(item);
    return all;
  }
}
