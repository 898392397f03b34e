package com.example.textbook;

import org.springframework.data.jpa.repository.JpaRepository;

/**
 * Spring Data JPA's repository of products.
 */
public interface ProductRepository extends JpaRepository<Product, Long> {

}
