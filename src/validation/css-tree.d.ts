// The part of css-tree 3 that css.ts uses (the package ships no types and @types/css-tree
// is not installed). Node shapes as documented in css-tree's docs/ast.md.
declare module 'css-tree' {
  export interface ListItem<T> { data: T }
  export interface List<T> {
    forEach(fn: (data: T, item: ListItem<T>, list: List<T>) => void): void
    remove(item: ListItem<T>): ListItem<T>
    readonly size: number
  }
  interface Base { loc?: unknown }
  export interface StyleSheet extends Base { type: 'StyleSheet'; children: List<CssNode> }
  export interface DeclarationList extends Base { type: 'DeclarationList'; children: List<CssNode> }
  export interface Block extends Base { type: 'Block'; children: List<CssNode> }
  export interface Rule extends Base { type: 'Rule'; prelude: CssNode; block: Block }
  export interface Atrule extends Base { type: 'Atrule'; name: string; prelude: CssNode | null; block: Block | null }
  export interface Declaration extends Base { type: 'Declaration'; property: string; important: boolean | string; value: CssNode }
  export interface Url extends Base { type: 'Url'; value: string }
  export interface FunctionNode extends Base { type: 'Function'; name: string; children: List<CssNode> }
  export interface Raw extends Base { type: 'Raw'; value: string }
  export interface Other extends Base { type: 'Value' | 'Identifier' | 'String' | 'Number' | 'Dimension' | 'Percentage' | 'Hash' | 'Operator' | 'Parentheses' | 'Selector' | 'SelectorList' | 'Comment' | 'WhiteSpace' | 'AtrulePrelude' | 'MediaQuery' | 'MediaQueryList' }
  export type CssNode = StyleSheet | DeclarationList | Block | Rule | Atrule | Declaration | Url | FunctionNode | Raw | Other

  export interface ParseOptions {
    context?: 'stylesheet' | 'declarationList' | 'value' | 'atrule' | 'rule' | 'selectorList' | 'declaration'
    parseCustomProperty?: boolean
    parseValue?: boolean
    onParseError?: (error: Error) => void
  }
  export function parse(text: string, options?: ParseOptions): CssNode
  export function walk(ast: CssNode, fn: (node: CssNode) => void): void
  export function generate(ast: CssNode): string
  export const ident: { decode(s: string): string; encode(s: string): string }
}
