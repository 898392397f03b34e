package com.example.catalog.product;

import org.springframework.data.jpa.repository.JpaRepository;

/** Database access for products; Spring Data writes the implementation. */
interface ProductRepository extends JpaRepository<Product, Long> {

}
