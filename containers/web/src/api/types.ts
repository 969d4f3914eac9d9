// Names of the API payloads used by the pages, all from the generated schema.
import type { Schemas } from './client';

export type Account = Schemas['Account'];
export type PortfolioSummary = Schemas['PortfolioSummary'];
export type Holdings = Schemas['Holdings'];
export type Holding = Schemas['Holding'];
export type TransactionCreate = Schemas['TransactionCreate'];
export type TransactionOut = Schemas['TransactionOut'];
export type ImportReport = Schemas['ImportReport'];
export type ImportRowError = Schemas['ImportRowError'];
export type RiskReport = Schemas['RiskReport'];
export type Watchlist = Schemas['Watchlist'];
export type Quote = Schemas['Quote'];
export type TickerInfo = Schemas['TickerInfo'];
export type PriceHistory = Schemas['PriceHistory'];
export type PriceBar = Schemas['PriceBar'];
export type Prediction = Schemas['PredictionOut'];
export type Driver = Schemas['Driver'];
export type TrackRecord = Schemas['TrackRecordOut'];
export type ModelVersion = Schemas['ModelVersionOut'];
export type ProductionModel = Schemas['ProductionModelOut'];
export type ConversationSummary = Schemas['ConversationSummary'];
export type ConversationDetail = Schemas['ConversationDetail'];
export type ChatMessage = Schemas['Message'];
export type ToolCall = Schemas['ToolCall'];
export type UnverifiedNumber = Schemas['UnverifiedNumber'];
export type UsageReport = Schemas['UsageReport'];
