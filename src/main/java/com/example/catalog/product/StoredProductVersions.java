package com.example.catalog.product;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

import com.example.catalog.cache.ProductVersions;

import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** The products' committed versions, for the cache's consistency auditor. */
@Component
class StoredProductVersions implements ProductVersions {

	private final ProductRepository products;

	private final TransactionTemplate readTransaction;

	StoredProductVersions(ProductRepository products, PlatformTransactionManager transactionManager) {
		this.products = products;
		this.readTransaction = new TransactionTemplate(transactionManager);
		this.readTransaction.setReadOnly(true);
	}

	@Override
	public Map<Long, Long> current(Collection<Long> ids) {
		if (ids.size() > MAX_BATCH) {
			throw new IllegalArgumentException("At most " + MAX_BATCH + " ids at once, not " + ids.size());
		}
		Map<Long, Long> versions = new HashMap<>();
		if (ids.isEmpty()) {
			return versions;
		}
		this.readTransaction.executeWithoutResult((status) -> {
			for (ProductRepository.IdAndVersion row : this.products.findVersionsByIdIn(ids)) {
				versions.put(row.getId(), row.getVersion());
			}
		});
		return versions;
	}

}
