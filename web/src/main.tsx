import { createRoot } from 'react-dom/client';
import { Provider } from 'urql';
import { App } from './App.tsx';
import { client } from './graphql/client.ts';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <Provider value={client}>
    <App />
  </Provider>,
);
