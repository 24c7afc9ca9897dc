export * from './output-capture';
export * from './result-parser';
