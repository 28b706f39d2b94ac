/**
 * Carbon intensity of electricity generation, grams of CO2-equivalent per kWh, by ISO 3166-1
 * alpha-3 country code.
 *
 * Source: Ember, "Yearly Electricity Data" (2024 release), as published by Our World in Data
 * ("Carbon intensity of electricity generation", 2023 values), rounded to the nearest
 * 5 g/kWh. These are yearly averages: the grid at a given hour can differ a lot. `WORLD` is
 * used for a country not listed.
 */
export const GRID_INTENSITY_G_PER_KWH: Readonly<Record<string, number>> = {
  WORLD: 480,
  ARG: 355,
  AUS: 550,
  AUT: 110,
  BEL: 140,
  BRA: 100,
  CAN: 170,
  CHE: 35,
  CHN: 580,
  CZE: 415,
  DEU: 380,
  DNK: 150,
  ESP: 175,
  FIN: 80,
  FRA: 55,
  GBR: 240,
  GRC: 335,
  IDN: 675,
  IND: 715,
  IRL: 280,
  ISL: 25,
  ITA: 330,
  JPN: 485,
  KOR: 430,
  MEX: 410,
  NLD: 270,
  NOR: 30,
  NZL: 110,
  POL: 660,
  PRT: 135,
  RUS: 440,
  SAU: 695,
  SWE: 40,
  TUR: 440,
  UKR: 245,
  USA: 370,
  ZAF: 710,
};

/**
 * Estimated power draw of the device while training, watts, by tfjs backend. These are
 * stated assumptions, not measurements (a browser exposes no power sensor): a busy laptop or
 * desktop GPU for webgl/webgpu, a few busy CPU cores for cpu/wasm. Override with
 * `ObserverConfig.carbonDeviceWatts`.
 */
export const BACKEND_WATTS: Readonly<Record<string, number>> = {
  webgpu: 75,
  webgl: 75,
  wasm: 30,
  cpu: 30,
  tensorflow: 60,
};
export const DEFAULT_WATTS = 45;
